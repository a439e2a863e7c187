using System.Globalization;
using Calc.LocalServers.Launch;

namespace Calc.AppHost;

/// <summary>
/// The app host's command line (what <c>calc up</c> passes on, already validated there):
/// <c>--profile embedded|full --urls &lt;gateway&gt; --calculations N --data-dir &lt;dir&gt; --aspire-urls &lt;dashboard&gt;</c>.
/// </summary>
internal sealed record AppHostOptions(SystemSettings System, Uri AspireDashboardUrl)
{
    public const string DefaultGatewayUrl = "http://127.0.0.1:5080";
    public const string DefaultAspireDashboardUrl = "http://127.0.0.1:18888";

    public static AppHostOptions Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["--profile"] = SystemSettings.Embedded,
            ["--urls"] = DefaultGatewayUrl,
            ["--calculations"] = "2",
            ["--data-dir"] = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "calc"),
            ["--aspire-urls"] = DefaultAspireDashboardUrl,
        };
        for (var i = 0; i < args.Count; i++)
        {
            var (name, value) = args[i].Split('=', 2) is [var n, var v] ? (n, v) : (args[i], i + 1 < args.Count ? args[++i] : null);
            if (!values.ContainsKey(name) || value is null)
            {
                throw new ArgumentException($"unknown option or missing value: '{args[i]}' (options: {string.Join(", ", values.Keys)})");
            }

            values[name] = value;
        }

        var profile = values["--profile"] is SystemSettings.Embedded or SystemSettings.Full
            ? values["--profile"]
            : throw new ArgumentException($"--profile must be {SystemSettings.Embedded} or {SystemSettings.Full}, not '{values["--profile"]}'");
        var instances = int.TryParse(values["--calculations"], NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= SystemSettings.MaxCalculationInstances
            ? count
            : throw new ArgumentException($"--calculations must be between 1 and {SystemSettings.MaxCalculationInstances}");
        return new(
            new SystemSettings(HttpUrl("--urls", values["--urls"]), profile, Path.GetFullPath(values["--data-dir"]), instances),
            HttpUrl("--aspire-urls", values["--aspire-urls"]));
    }

    private static Uri HttpUrl(string option, string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttp
            ? url
            : throw new ArgumentException($"{option} must be an http URL such as http://127.0.0.1:5080, not '{value}'");
}
