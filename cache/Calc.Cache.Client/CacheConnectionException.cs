namespace Calc.Cache.Client;

/// <summary>
/// The connection failed or could not be made. A command in flight when the connection broke may or may not have
/// run on the server; the client does not resend it (INCR twice would be wrong). The next call reconnects.
/// </summary>
public sealed class CacheConnectionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CacheConnectionException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public CacheConnectionException(string message, Exception? innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates an empty exception.</summary>
    public CacheConnectionException()
    {
    }
}
