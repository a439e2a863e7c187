using System.Text.Json;
using Calc.Core.Discovery;
using Calc.Core.Hosting;
using Calc.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Calc.Core.Tests.Discovery;

/// <summary>What GatewayRegistration tells a gateway (a stand-in on loopback that records the RPC methods).</summary>
public sealed class GatewayRegistrationTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_instance_stopped_while_its_registration_is_unanswered_still_deregisters()
    {
        // The gateway may already hold the entry when its reply is lost to the stop (calc up stopping right after the
        // gateway listed the instance): without a deregistration it would route there until the TTL ran out.
        var methods = new List<string>();
        var registerArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gatewayBuilder = WebApplication.CreateSlimBuilder();
        gatewayBuilder.Logging.ClearProviders();
        var gatewayUrl = $"http://127.0.0.1:{ProcessTools.FreePort()}";
        gatewayBuilder.WebHost.UseUrls(gatewayUrl);
        await using var gateway = gatewayBuilder.Build();
        gateway.MapPost(RegistryRpc.Path, async context =>
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var method = body.RootElement.GetProperty("method").GetString() ?? "";
            lock (methods)
            {
                methods.Add(method);
            }

            if (method == RegistryRpc.Register)
            {
                registerArrived.TrySetResult();
                await Task.Delay(Timeout.Infinite, context.RequestAborted); // the reply never comes
            }

            await context.Response.WriteAsJsonAsync(new { jsonrpc = "2.0", result = (object?)null, id = body.RootElement.GetProperty("id").GetInt64() });
        });
        await gateway.StartAsync(Token);

        var serviceBuilder = WebApplication.CreateSlimBuilder();
        serviceBuilder.Configuration.AddInMemoryCollection([
            new("Gateway:Url", gatewayUrl),
            new("Internal:Key", "test-key"),
            new("Service:InstanceId", "registration-test-1"),
            new("OTEL_SDK_DISABLED", "true"),
        ]);
        serviceBuilder.WebHost.UseUrls($"http://127.0.0.1:{ProcessTools.FreePort()}");
        serviceBuilder.AddServiceDefaults("registration-test");
        serviceBuilder.Logging.ClearProviders();
        await using var service = serviceBuilder.Build();
        await service.StartAsync(Token);
        await registerArrived.Task.WaitAsync(TimeSpan.FromSeconds(30), Token);

        await service.StopAsync(Token).WaitAsync(TimeSpan.FromSeconds(30), Token);

        lock (methods)
        {
            methods.ShouldBe([RegistryRpc.Register, RegistryRpc.Deregister]);
        }
    }
}
