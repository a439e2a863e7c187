using System.Text.Json;

namespace Calc.Jobs.Domain;

/// <summary>
/// What travels through the queue: the job's id (the job itself is in the store) and the id of the request that
/// created it, so the worker's log lines carry the same request id as the API's.
/// </summary>
internal sealed record JobMessage(string JobId, string? RequestId = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Reads a message; false for anything that is not one (a poison message).</summary>
    public static bool TryRead(ReadOnlyMemory<byte> body, out JobMessage message)
    {
        message = new JobMessage("");
        try
        {
            var read = JsonSerializer.Deserialize<JobMessage>(body.Span, Json);
            if (read is null || !JobIds.IsValid(read.JobId))
            {
                return false;
            }

            message = read;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
