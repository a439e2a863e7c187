using Calc.Testing;

// One RabbitMQ broker and one redis-server for the whole assembly; each test takes its own queue names and key prefix.
// The test that restarts a broker starts its own.
[assembly: AssemblyFixture(typeof(RabbitMqServer))]
[assembly: AssemblyFixture(typeof(RedisServer))]
