using System.CommandLine;
using Calc.Cli.Gateway;
using Calc.Cli.Output;

namespace Calc.Cli.Commands;

/// <summary>What every gateway command gets: the gateway client and the output, from the global options.</summary>
internal sealed class CliContext(GatewayClient gateway, Terminal terminal) : IDisposable
{
    public const string GatewayVariable = "CALC_GATEWAY_URL";
    public const string DefaultGateway = "http://127.0.0.1:5080";

    /// <summary><c>--gateway</c>: where the gateway is; else <c>CALC_GATEWAY_URL</c>; else the local default.</summary>
    public static readonly Option<string> GatewayOption = new("--gateway", "-g")
    {
        Description = $"The gateway's URL (default: ${GatewayVariable}, else {DefaultGateway})",
        Recursive = true,
        HelpName = "url",
    };

    /// <summary><c>--json</c>: print the API's JSON instead of tables or lines.</summary>
    public static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Print the API's JSON as it came (for scripts that parse JSON)",
        Recursive = true,
    };

    public GatewayClient Gateway { get; } = gateway;

    public Terminal Terminal { get; } = terminal;

    /// <summary>
    /// Runs a gateway command: builds the context from the global options, turns an expected failure
    /// (<see cref="CliException"/>) into its message on stderr and its exit code.
    /// </summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Action(Func<CliContext, ParseResult, CancellationToken, Task<int>> action) =>
        async (parse, cancellationToken) =>
        {
            try
            {
                using var context = Create(parse);
                return await action(context, parse, cancellationToken);
            }
            catch (CliException exception)
            {
                Terminal.Error(exception.Message);
                return exception.ExitCode;
            }
        };

    public void Dispose() => Gateway.Dispose();

    private static CliContext Create(ParseResult parse)
    {
        var url = parse.GetValue(GatewayOption);
        if (string.IsNullOrWhiteSpace(url))
        {
            url = Environment.GetEnvironmentVariable(GatewayVariable);
        }

        if (string.IsNullOrWhiteSpace(url))
        {
            url = DefaultGateway;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var gateway) || (gateway.Scheme != Uri.UriSchemeHttp && gateway.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliException(ExitCodes.Usage, $"'{url}' is not an http(s) URL (--gateway or ${GatewayVariable})");
        }

        return new CliContext(GatewayClient.Create(gateway, TimeSpan.FromSeconds(30)), new Terminal(parse.GetValue(JsonOption)));
    }
}
