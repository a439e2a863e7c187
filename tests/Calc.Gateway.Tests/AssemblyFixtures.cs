using Calc.Testing;

// One PostgreSQL server and one cache server for the whole assembly; each cluster takes its own database and
// registry key prefix. Clusters start several processes each: run the classes one after another on 2 cores.
[assembly: AssemblyFixture(typeof(PostgresServer))]
[assembly: AssemblyFixture(typeof(CacheServerProcess))]
[assembly: CollectionBehavior(DisableTestParallelization = true)]
