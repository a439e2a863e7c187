using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Calc.Bench.E2e;

/// <summary>What one run of the sequence came to: done with the right result, or the first thing that went wrong.</summary>
internal readonly record struct Outcome(bool Done, string? Error)
{
    public static readonly Outcome Success = new(true, null);

    public static Outcome Failure(string error) => new(false, error);
}

/// <summary>Seed 000's calculation, 39 + 12 = 51, through the gateway's public API.</summary>
internal sealed class Seed000Sequence(HttpClient http, TimeSpan busyRetry)
{
    private static readonly byte[] CreateBody = """{"type":"addition","init":39}"""u8.ToArray();
    private static readonly byte[] TermBody = """{"term":12}"""u8.ToArray();
    private static readonly Uri Calculations = new("/calculations", UriKind.Relative);

    public async Task<Outcome> RunAsync(MeasuredWindow window, CancellationToken cancellationToken)
    {
        try
        {
            var (status, created) = await SendAsync(HttpMethod.Post, Calculations, CreateBody, cancellationToken);
            if (status != HttpStatusCode.Created || created.Id is null)
            {
                return Outcome.Failure($"POST {(int)status}");
            }

            var calculation = new Uri($"/calculations/{created.Id}", UriKind.Relative);
            (status, _) = await SendAsync(HttpMethod.Put, calculation, TermBody, cancellationToken);
            if (status != HttpStatusCode.OK)
            {
                return Outcome.Failure($"PUT term {(int)status}");
            }

            var finalize = new Uri($"/calculations/{created.Id}/finalize", UriKind.Relative);
            Reply reply;
            while (true)
            {
                (status, reply) = await SendAsync(HttpMethod.Put, finalize, null, cancellationToken);
                if (status != HttpStatusCode.ServiceUnavailable)
                {
                    break;
                }

                // No free slot on that instance: what a client does on 503, sooner than its Retry-After.
                window.CountBusy503();
                await Task.Delay(busyRetry, cancellationToken);
            }

            if (status is not (HttpStatusCode.Accepted or HttpStatusCode.OK))
            {
                return Outcome.Failure($"finalize {(int)status}");
            }

            while (reply.Status is "building" or "processing")
            {
                (status, reply) = await SendAsync(HttpMethod.Get, calculation, null, cancellationToken);
                window.CountGet();
                if (status != HttpStatusCode.OK)
                {
                    return Outcome.Failure($"GET {(int)status}");
                }
            }

            return reply is { Status: "done", Result: "51" } ? Outcome.Success : Outcome.Failure($"ended {reply.Status} with result {reply.Result}");
        }
        catch (HttpRequestException exception)
        {
            return Outcome.Failure(exception.HttpRequestError.ToString());
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Outcome.Failure("request timed out");
        }
    }

    private async Task<(HttpStatusCode, Reply)> SendAsync(HttpMethod method, Uri uri, byte[]? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
        }

        using var response = await http.SendAsync(request, cancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return (response.StatusCode, Reply.Parse(bytes));
    }

    /// <summary>The fields of a calculation's JSON this client looks at.</summary>
    private readonly record struct Reply(string? Id, string? Status, string? Result)
    {
        public static Reply Parse(byte[] json)
        {
            if (json.Length == 0 || json[0] != (byte)'{')
            {
                return default;
            }

            string? id = null, status = null, result = null;
            var reader = new Utf8JsonReader(json);
            try
            {
                while (reader.Read())
                {
                    if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
                    {
                        continue;
                    }

                    if (reader.ValueTextEquals("id"u8))
                    {
                        reader.Read();
                        id = Text(ref reader);
                    }
                    else if (reader.ValueTextEquals("status"u8))
                    {
                        reader.Read();
                        status = Text(ref reader); // A problem's "status" is its number: not a calculation's.
                    }
                    else if (reader.ValueTextEquals("result"u8))
                    {
                        reader.Read();
                        result = reader.TokenType == JsonTokenType.String ? reader.GetString() : Encoding.UTF8.GetString(reader.ValueSpan);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            catch (JsonException)
            {
                return default;
            }

            return new Reply(id, status, result);
        }

        private static string? Text(ref Utf8JsonReader reader)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                return reader.GetString();
            }

            reader.Skip();
            return null;
        }
    }
}
