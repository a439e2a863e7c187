using Calc.Testing;

// One of each server for the whole assembly; each test takes its own queue names, key prefixes and registry prefix.
[assembly: AssemblyFixture(typeof(CacheServerProcess))]
[assembly: AssemblyFixture(typeof(RabbitMqServer))]
[assembly: AssemblyFixture(typeof(RedisServer))]
