using System.Diagnostics.CodeAnalysis;

[assembly: SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix",
    Scope = "type", Target = "~T:Calc.Data.DocumentCollection`1",
    Justification = "A document collection in the Marten/MongoDB sense (a table), not a .NET collection type; the name is part of the agreed contract.")]
[assembly: SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix",
    Scope = "type", Target = "~T:Calc.Data.IDocumentCollection",
    Justification = "The untyped view of DocumentCollection<T>: a document collection (a table), not a .NET collection type.")]
