using Calc.Testing;

[assembly: AssemblyFixture(typeof(PostgresServer))]
