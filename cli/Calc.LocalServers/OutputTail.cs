using System.Diagnostics;
using System.Text;

namespace Calc.LocalServers;

/// <summary>The last lines a process printed, for failure messages; bounded so a chatty process cannot grow its reader's memory.</summary>
public sealed class OutputTail
{
    private const int Limit = 200_000;
    private readonly StringBuilder _text = new();

    /// <summary>Captures the standard output and error of a process started with both redirected.</summary>
    public void Attach(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Adds a line.</summary>
    public void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_text)
        {
            if (_text.Length > Limit)
            {
                _text.Remove(0, Limit / 2);
            }

            _text.AppendLine(line);
        }
    }

    /// <inheritdoc />
    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }
}
