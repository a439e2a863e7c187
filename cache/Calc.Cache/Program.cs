using Calc.Cache.Server;

// Starts like redis-server: `Calc.Cache --port 6379 --bind 127.0.0.1 --requirepass secret --maxmemory 100mb`.

CacheServerOptions options;
try
{
    options = CacheServerOptions.Parse(args);
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync($"*** FATAL CONFIG ERROR: {ex.Message}");
    return 1;
}

await using var server = await CacheServer.StartAsync(options);
server.EndProcessWhenStopHangs();
Console.WriteLine($"Calc.Cache pid={Environment.ProcessId} ready to accept connections tcp {options.Bind}:{server.Port}");
await server.WaitForShutdownAsync();
return 0;
