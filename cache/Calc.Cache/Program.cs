using Calc.Cache.Server;

// Starts like redis-server: `Calc.Cache --port 6379 --bind 127.0.0.1 --requirepass secret --maxmemory 100mb`.
// Socket completions run inline on the epoll threads (one per core) rather than being queued to the thread pool;
// read once when the first socket is created, so it is set before the host starts. An explicit setting wins.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}

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
Console.WriteLine($"Calc.Cache pid={Environment.ProcessId} ready to accept connections tcp {options.Bind}:{server.Port}");
await server.WaitForShutdownAsync();
return 0;
