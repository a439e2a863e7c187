namespace Calc.Cache.Commands;

/// <summary>Static description of one command: name, arity (negative means "at least"), flags and key positions.</summary>
internal sealed record CommandInfo(
    string Name, CommandKind Kind, int Arity, CommandFlags Flags, int FirstKey, int LastKey, int Step, string Group, string Summary)
{
    public bool ArityOk(int count) => Arity >= 0 ? count == Arity : count >= -Arity;
}
