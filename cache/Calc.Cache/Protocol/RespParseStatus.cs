namespace Calc.Cache.Protocol;

/// <summary>Outcome of one <see cref="RespParser.TryParse"/> call.</summary>
public enum RespParseStatus
{
    /// <summary>A whole command was parsed and consumed from the buffer.</summary>
    Complete,

    /// <summary>The buffer holds only part of a command; nothing was consumed.</summary>
    Incomplete,

    /// <summary>The input breaks the protocol or a limit; the connection must be closed after the error reply.</summary>
    Error,
}
