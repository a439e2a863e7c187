using System.ComponentModel.DataAnnotations;
using Calc.Core.Outbound;

namespace Calc.Core.Callbacks;

/// <summary>
/// How results are delivered to callback URLs (configuration section <c>Callbacks</c>): which URLs are accepted, how
/// long one attempt may take, how retries back off, and when a delivery is given up (dead-lettered).
/// </summary>
public sealed class CallbackOptions : IValidatableObject
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Callbacks";

    /// <summary>Attempts per delivery before it is dead-lettered (<c>Callbacks:MaxAttempts</c>, default 8).</summary>
    [Range(1, 1000)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>How long one POST may take, connecting included (default 10 s).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Delay after the first failed attempt; it doubles with each further failure (default 1 s).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between two attempts (default 5 min).</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the dispatcher looks for due deliveries that no local event announced (default 1 s).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often deliveries still waiting for their work are checked against it (default 1 min): this finds work that
    /// became final in a process that stopped before it could arm the delivery.
    /// </summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Longest callback URL accepted (default 2048 characters).</summary>
    [Range(16, 65_536)]
    public int MaxUrlLength { get; set; } = 2048;

    /// <summary>
    /// Hosts a callback URL may name (<c>Callbacks:AllowedHosts:0</c>, ...): an exact host name or address, or
    /// <c>*.example.com</c> for its subdomains. Empty (the default): any host.
    /// </summary>
    public IList<string> AllowedHosts { get; } = [];

    /// <summary>
    /// Networks a callback may connect to although they are inside the network the service runs in
    /// (<c>Callbacks:AllowedNetworks:0</c>, ...), in CIDR form: <c>10.20.0.0/16</c>, <c>127.0.0.0/8</c>, <c>::1/128</c>.
    /// Empty (the default): loopback, link-local, private, shared (CGNAT), unique-local, unspecified, multicast,
    /// broadcast and reserved addresses are all refused (see <see cref="OutboundAddressPolicy"/>).
    /// </summary>
    public IList<string> AllowedNetworks { get; } = [];

    /// <summary>The address policy of callbacks: <see cref="AllowedNetworks"/> opened, everything internal else refused.</summary>
    public OutboundAddressPolicy CreateAddressPolicy() => OutboundAddressPolicy.FromConfiguration(AllowedNetworks, "Callbacks:AllowedNetworks");

    /// <summary>
    /// The delay before attempt <paramref name="failedAttempts"/> + 1: <see cref="RetryBaseDelay"/> doubled per failure
    /// after the first, at most <see cref="RetryMaxDelay"/>, then jittered down by up to half so that deliveries that
    /// failed together (a receiver that was down) do not all come back at the same moment.
    /// </summary>
    /// <param name="failedAttempts">Attempts that failed so far, 1 or more.</param>
    /// <param name="random">The source of jitter.</param>
    public TimeSpan RetryDelay(int failedAttempts, Random random) => Backoff.Delay(failedAttempts, RetryBaseDelay, RetryMaxDelay, random);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (AttemptTimeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Callbacks:AttemptTimeout must be positive.", [nameof(AttemptTimeout)]);
        }

        if (RetryBaseDelay <= TimeSpan.Zero || RetryMaxDelay < RetryBaseDelay)
        {
            yield return new ValidationResult("Callbacks:RetryBaseDelay must be positive and at most Callbacks:RetryMaxDelay.", [nameof(RetryBaseDelay)]);
        }

        if (PollInterval <= TimeSpan.Zero || SweepInterval <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Callbacks:PollInterval and Callbacks:SweepInterval must be positive.", [nameof(PollInterval)]);
        }

        foreach (var host in AllowedHosts)
        {
            var name = host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host;
            if (Uri.CheckHostName(name) == UriHostNameType.Unknown)
            {
                yield return new ValidationResult($"Callbacks:AllowedHosts holds '{host}', which is not a host name, an address or '*.domain'.", [nameof(AllowedHosts)]);
            }
        }

        foreach (var network in AllowedNetworks)
        {
            if (!OutboundAddressPolicy.TryParseNetwork(network, out _))
            {
                yield return new ValidationResult($"Callbacks:AllowedNetworks holds '{network}', which is not a network in CIDR form (e.g. 10.1.0.0/16, ::1/128).", [nameof(AllowedNetworks)]);
            }
        }
    }
}
