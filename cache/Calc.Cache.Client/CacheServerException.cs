namespace Calc.Cache.Client;

/// <summary>The server answered with an error reply (for example <c>WRONGTYPE ...</c> or <c>ERR syntax error</c>).</summary>
public sealed class CacheServerException : Exception
{
    /// <summary>Creates the exception from the error line the server sent.</summary>
    public CacheServerException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with an inner exception.</summary>
    public CacheServerException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates an empty exception.</summary>
    public CacheServerException()
    {
    }

    /// <summary>The error code: the first word of the message (ERR, WRONGTYPE, NOAUTH, OOM, ...).</summary>
    public string Code => Message.Split(' ', 2)[0];
}
