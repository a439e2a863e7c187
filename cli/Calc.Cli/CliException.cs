namespace Calc.Cli;

/// <summary>An outcome that ends the command with a message on stderr and a given exit code (an expected outcome, not a bug).</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
