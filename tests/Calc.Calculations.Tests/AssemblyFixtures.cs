using Calc.Testing;

// One PostgreSQL server for the whole test assembly; each test class takes a fresh database from it.
[assembly: AssemblyFixture(typeof(PostgresServer))]
