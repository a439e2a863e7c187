namespace Calc.Cache.Commands;

/// <summary>Command properties, as Redis reports them in COMMAND INFO.</summary>
[Flags]
internal enum CommandFlags
{
    None = 0,
    Write = 1,
    ReadOnly = 2,
    DenyOom = 4,
    Fast = 8,
    NoAuth = 16,
    Admin = 32,
}
