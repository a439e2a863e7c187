using System.Net;

namespace Calc.Core.Outbound;

/// <summary>
/// An outbound connection was not made because every address of its host is refused by the
/// <see cref="OutboundAddressPolicy"/>. Retrying cannot help until the configuration changes, so callers give up at
/// once (a callback is dead-lettered, a fetch fails). <see cref="HttpClient"/> wraps it in an
/// <see cref="HttpRequestException"/>: find it with <see cref="In"/>.
/// </summary>
public sealed class OutboundAddressRefusedException : Exception
{
    /// <summary>A refusal of <paramref name="address"/> for <paramref name="reason"/>.</summary>
    /// <param name="address">The first refused address.</param>
    /// <param name="reason">The policy's words for it.</param>
    public OutboundAddressRefusedException(IPAddress address, string reason)
        : base(reason)
    {
        Address = address;
    }

    /// <summary>Not for use: a refusal always names its address.</summary>
    public OutboundAddressRefusedException()
        : this(IPAddress.None, "the address is not allowed")
    {
    }

    /// <summary>Not for use: a refusal always names its address.</summary>
    /// <param name="message">The message.</param>
    public OutboundAddressRefusedException(string message)
        : this(IPAddress.None, message)
    {
    }

    /// <summary>Not for use: a refusal always names its address.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public OutboundAddressRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Address = IPAddress.None;
    }

    /// <summary>The first refused address.</summary>
    public IPAddress Address { get; }

    /// <summary>The refusal behind <paramref name="exception"/> (itself or one of its inner exceptions), or null.</summary>
    /// <param name="exception">What a call threw.</param>
    public static OutboundAddressRefusedException? In(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is OutboundAddressRefusedException refused)
            {
                return refused;
            }
        }

        return null;
    }
}
