using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Calc.Testing;

namespace Calc.Calculations.Tests;

/// <summary>
/// Callbacks of calculations: the final result posted to callbackUrl, retried with backoff while the receiver fails,
/// dead-lettered after the limit and re-armed by a user, surviving a restart of the service. Receivers are small
/// Kestrel apps on loopback ports; the service stores deliveries in its real SQLite database.
/// </summary>
public sealed class CallbackTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _directory = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    // Short delays so that several attempts fit in a test; the allow-list admits the loopback receivers only, and the
    // allowed networks open loopback, which the address policy refuses by default.
    private CalculationsApp StartApp(int maxAttempts = 10) => CalculationsApp.OnSqlite(
        _directory,
        ("Callbacks:MaxAttempts", maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("Callbacks:RetryBaseDelay", "00:00:00.100"),
        ("Callbacks:RetryMaxDelay", "00:00:00.500"),
        ("Callbacks:PollInterval", "00:00:00.100"),
        ("Callbacks:AttemptTimeout", "00:00:05"),
        ("Callbacks:AllowedHosts:0", "127.0.0.1"),
        ("Callbacks:AllowedHosts:1", "*.example.test"),
        ("Callbacks:AllowedNetworks:0", "127.0.0.0/8"));

    private static async Task<string> ComputeWithCallbackAsync(CalculationsClient api, string callbackUrl, string requestId = "calc-request-1")
    {
        using var create = new HttpRequestMessage(HttpMethod.Post, "/calculations")
        {
            Content = JsonContent.Create(new { type = "addition", init = 39, callbackUrl }),
        };
        create.Headers.Add("X-Request-Id", requestId);
        using var created = await api.Http.SendAsync(create, Token);
        var id = (await CalculationsClient.ReadAsync(created, HttpStatusCode.Created))["id"]!.GetValue<string>();
        await api.AddTermAsync(id, 12);
        using var finalize = await api.FinalizeAsync(id);
        finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        return id;
    }

    private static JsonObject Callback(JsonObject calculation) => calculation["callback"]!.AsObject();

    private static string State(JsonObject calculation) => Callback(calculation)["state"]!.GetValue<string>();

    [Fact]
    public async Task A_finished_calculation_is_posted_to_its_callback_url_with_its_id_status_result_and_request_id()
    {
        await using var receiver = new HttpReceiver();
        await receiver.StartAsync();
        await using var app = StartApp();
        var api = new CalculationsClient(app.CreateClient());

        var id = await ComputeWithCallbackAsync(api, receiver.Url("/hooks/calc"), "calc-request-1");
        var received = await receiver.WaitForAsync(r => r.Path == "/hooks/calc", Generous);

        var body = JsonNode.Parse(received.Body)!.AsObject();
        body["id"]!.GetValue<string>().ShouldBe(id);
        body["status"]!.GetValue<string>().ShouldBe("done");
        body["result"]!.GetValue<long>().ShouldBe(51);
        body["requestId"]!.GetValue<string>().ShouldBe("calc-request-1");
        received.Method.ShouldBe("POST");
        received.Headers["X-Request-Id"].ShouldBe("calc-request-1");
        received.Headers["Content-Type"].ShouldStartWith("application/json");

        var calculation = await api.WaitForAsync(id, c => c["callback"]?["state"]?.GetValue<string>() == "delivered", Generous);
        Callback(calculation)["attempts"]!.GetValue<int>().ShouldBe(1);
        Callback(calculation)["lastStatusCode"]!.GetValue<int>().ShouldBe(200);
        calculation["requestId"]!.GetValue<string>().ShouldBe("calc-request-1");
        receiver.Received.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_callback_whose_receiver_is_down_for_a_while_is_delivered_after_it_comes_back()
    {
        await using var receiver = new HttpReceiver(); // not started yet: connections are refused
        await using var app = StartApp();
        var api = new CalculationsClient(app.CreateClient());

        var id = await ComputeWithCallbackAsync(api, receiver.Url("/down-then-up"));
        var failing = await api.WaitForAsync(id, c => c["callback"]?["attempts"]?.GetValue<int>() >= 2, Generous);
        State(failing).ShouldBe("pending", failing.ToJsonString());
        Callback(failing)["lastError"]!.GetValue<string>().ShouldContain("could not be reached");
        Callback(failing)["nextAttemptAt"].ShouldNotBeNull();

        await receiver.StartAsync();
        var received = await receiver.WaitForAsync(r => r.Path == "/down-then-up", Generous);
        JsonNode.Parse(received.Body)!["id"]!.GetValue<string>().ShouldBe(id);

        var delivered = await api.WaitForAsync(id, c => State(c) == "delivered", Generous);
        Callback(delivered)["attempts"]!.GetValue<int>().ShouldBeGreaterThan(2);
        Callback(delivered)["deliveredAt"].ShouldNotBeNull();
    }

    [Fact]
    public async Task A_callback_that_always_fails_is_dead_lettered_after_the_limit_and_the_retry_endpoint_delivers_it_once_the_receiver_works()
    {
        await using var receiver = new HttpReceiver { Answer = _ => (500, "") };
        await receiver.StartAsync();
        await using var app = StartApp(maxAttempts: 3);
        var api = new CalculationsClient(app.CreateClient());

        var id = await ComputeWithCallbackAsync(api, receiver.Url("/always-fails"));
        var dead = await api.WaitForAsync(id, c => c["callback"]?["state"]?.GetValue<string>() == "dead_lettered", Generous);
        Callback(dead)["attempts"]!.GetValue<int>().ShouldBe(3);
        Callback(dead)["lastStatusCode"]!.GetValue<int>().ShouldBe(500);
        Callback(dead)["nextAttemptAt"].ShouldBeNull();
        await Task.Delay(700, Token);
        receiver.Received.Count.ShouldBe(3); // no attempt after the limit

        receiver.Answer = _ => (204, "");
        using (var retry = await api.Http.PostAsync($"/calculations/{id}/callback/retry", content: null, Token))
        {
            var rearmed = await CalculationsClient.ReadAsync(retry, HttpStatusCode.Accepted);
            rearmed["state"]!.GetValue<string>().ShouldBe("pending");
        }

        var delivered = await api.WaitForAsync(id, c => State(c) == "delivered", Generous);
        Callback(delivered)["rearmed"]!.GetValue<int>().ShouldBe(1);
        Callback(delivered)["lastStatusCode"]!.GetValue<int>().ShouldBe(204);
        receiver.Received.Count.ShouldBe(4);

        // Delivered: nothing to retry.
        using var again = await api.Http.PostAsync($"/calculations/{id}/callback/retry", content: null, Token);
        var conflict = await CalculationsClient.ReadAsync(again, HttpStatusCode.Conflict);
        conflict["detail"]!.GetValue<string>().ShouldContain("delivered");
    }

    [Fact]
    public async Task Retrying_the_callback_of_a_calculation_without_one_is_409_and_of_an_unknown_calculation_404()
    {
        await using var app = StartApp();
        var api = new CalculationsClient(app.CreateClient());
        var id = await api.CreateIdAsync(new { type = "addition", init = 1 });

        using var none = await api.Http.PostAsync($"/calculations/{id}/callback/retry", content: null, Token);
        (await CalculationsClient.ReadAsync(none, HttpStatusCode.Conflict))["detail"]!.GetValue<string>().ShouldContain("no callbackUrl");
        using var unknown = await api.Http.PostAsync("/calculations/nope/callback/retry", content: null, Token);
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await api.GetAsync(id))["callback"].ShouldBeNull();
    }

    [Theory]
    [InlineData("http://192.0.2.10/hook", "not in the allowed hosts")]
    [InlineData("https://evil.test/hook", "not in the allowed hosts")]
    [InlineData("ftp://127.0.0.1/hook", "http or https")]
    [InlineData("http://user:secret@127.0.0.1/hook", "without user info")]
    public async Task A_callback_url_that_is_not_allowed_is_refused_with_400_naming_callbackUrl(string url, string message)
    {
        await using var app = StartApp();
        var api = new CalculationsClient(app.CreateClient());

        var problem = await api.CreateAsync(new { type = "addition", init = 1, callbackUrl = url }, HttpStatusCode.BadRequest);

        var errors = CalculationsClient.FieldErrors(problem);
        errors.Keys.ShouldBe(["callbackUrl"]);
        errors["callbackUrl"][0].ShouldContain(message);
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data", "address 169.254.169.254 is not allowed: link-local")]
    [InlineData("http://localhost:8080/hook", "address 127.0.0.1 is not allowed: loopback")]
    [InlineData("http://10.0.0.7/hook", "address 10.0.0.7 is not allowed: private")]
    [InlineData("http://[::1]:8080/hook", "address ::1 is not allowed: loopback")]
    [InlineData("http://[fd00::1]/hook", "address fd00::1 is not allowed: unique-local")]
    public async Task A_callback_url_naming_an_internal_address_is_refused_by_default_with_400_naming_callbackUrl_and_the_address(string url, string refusal)
    {
        await using var app = CalculationsApp.OnSqlite(_directory);
        var api = new CalculationsClient(app.CreateClient());

        var problem = await api.CreateAsync(new { type = "addition", init = 1, callbackUrl = url }, HttpStatusCode.BadRequest);

        var errors = CalculationsClient.FieldErrors(problem);
        errors.Keys.ShouldBe(["callbackUrl"]);
        errors["callbackUrl"][0].ShouldContain(refusal);
        errors["callbackUrl"][0].ShouldContain("Callbacks:AllowedNetworks");
    }

    [Fact]
    public async Task A_delivery_to_an_address_the_policy_refuses_at_connect_time_is_dead_lettered_at_once_with_the_address_in_lastError()
    {
        // Registered while loopback was open (and the receiver down), attempted after a restart with loopback closed:
        // the connect-time check, not the submit-time one, is what stops it.
        await using var receiver = new HttpReceiver();
        string id;
        await using (var open = StartApp())
        {
            var api = new CalculationsClient(open.CreateClient());
            id = await ComputeWithCallbackAsync(api, receiver.Url("/closed-later"));
            // While an attempt runs it is counted but has no outcome yet: wait for the first outcome stored.
            var failing = await api.WaitForAsync(id, c => c["callback"]?["lastError"] is not null && State(c) == "pending", Generous);
            Callback(failing)["lastError"]!.GetValue<string>().ShouldContain("could not be reached");
        }

        await receiver.StartAsync();
        await using var closed = CalculationsApp.OnSqlite(
            _directory,
            ("Callbacks:MaxAttempts", "10"),
            ("Callbacks:RetryBaseDelay", "00:00:00.100"),
            ("Callbacks:PollInterval", "00:00:00.100"));
        var restarted = new CalculationsClient(closed.CreateClient());

        var dead = await restarted.WaitForAsync(id, c => State(c) == "dead_lettered", Generous);
        var lastError = Callback(dead)["lastError"]!.GetValue<string>();
        lastError.ShouldContain("address 127.0.0.1 is not allowed: loopback");
        lastError.ShouldContain("Callbacks:AllowedNetworks");
        Callback(dead)["attempts"]!.GetValue<int>().ShouldBeLessThan(10);
        Callback(dead)["lastStatusCode"].ShouldBeNull();
        receiver.Received.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_receiver_that_answers_with_a_redirect_is_not_followed_and_the_attempt_fails_with_its_status()
    {
        await using var inside = new HttpReceiver("127.0.0.2");
        await inside.StartAsync();
        await using var receiver = new HttpReceiver { Answer = _ => (307, ""), Location = _ => inside.Url("/inside") };
        await receiver.StartAsync();
        await using var app = StartApp(maxAttempts: 2);
        var api = new CalculationsClient(app.CreateClient());

        var id = await ComputeWithCallbackAsync(api, receiver.Url("/redirects"));
        var dead = await api.WaitForAsync(id, c => State(c) == "dead_lettered", Generous);

        Callback(dead)["lastStatusCode"]!.GetValue<int>().ShouldBe(307);
        receiver.Received.Count.ShouldBe(2);
        inside.Received.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_callback_url_on_an_allowed_subdomain_is_accepted()
    {
        await using var app = StartApp();
        var api = new CalculationsClient(app.CreateClient());

        var created = await api.CreateAsync(new { type = "addition", init = 1, callbackUrl = "https://hooks.example.test/calc" });

        created["callbackUrl"]!.GetValue<string>().ShouldBe("https://hooks.example.test/calc");
        created["callback"]!["state"]!.GetValue<string>().ShouldBe("waiting");
    }

    [Fact]
    public async Task A_pending_callback_survives_a_kill_of_the_service_and_is_delivered_by_it_after_a_restart()
    {
        await using var receiver = new HttpReceiver(); // down while the first process lives
        var environment = new Dictionary<string, string?>
        {
            ["Database__Provider"] = "sqlite",
            ["Database__ConnectionString"] = $"Data Source={_directory.Combine("restart.db")}",
            ["Callbacks__RetryBaseDelay"] = "00:00:00.200",
            ["Callbacks__RetryMaxDelay"] = "00:00:01",
            ["Callbacks__PollInterval"] = "00:00:00.100",
            ["Callbacks__AttemptTimeout"] = "00:00:02",
            ["Callbacks__MaxAttempts"] = "50",
            ["Callbacks__AllowedNetworks__0"] = "127.0.0.0/8",
        };

        string id;
        await using (var first = await ServiceProcess.StartAsync("services/Calc.Calculations", environment))
        {
            var api = new CalculationsClient(first.CreateClient());
            id = await ComputeWithCallbackAsync(api, receiver.Url("/after-restart"));
            var pending = await api.WaitForAsync(id, c => c["callback"]?["attempts"]?.GetValue<int>() >= 1, Generous);
            State(pending).ShouldBe("pending", pending.ToJsonString());
            await first.KillAsync();
        }

        await receiver.StartAsync();
        await using var second = await ServiceProcess.StartAsync("services/Calc.Calculations", environment);
        var restarted = new CalculationsClient(second.CreateClient());

        var received = await receiver.WaitForAsync(r => r.Path == "/after-restart", Generous);
        var body = JsonNode.Parse(received.Body)!.AsObject();
        (body["id"]!.GetValue<string>(), body["result"]!.GetValue<long>()).ShouldBe((id, 51));
        var delivered = await restarted.WaitForAsync(id, c => State(c) == "delivered", Generous);
        Callback(delivered)["attempts"]!.GetValue<int>().ShouldBeGreaterThan(1);
        await second.WaitForOutputAsync($"Callback for {id} delivered", Generous);
    }

    [Fact]
    public async Task Status_shows_the_cpu_and_io_lanes_with_bound_use_and_waiting()
    {
        await using var app = CalculationsApp.OnSqlite(_directory, ("Lanes:Cpu", "3"), ("Lanes:Io", "17"));
        var api = new CalculationsClient(app.CreateClient());

        var status = (await api.Http.GetFromJsonAsync<JsonObject>("/status", Token))!;

        var lanes = status["lanes"]!.AsObject();
        lanes["cpu"]!["bound"]!.GetValue<int>().ShouldBe(3);
        lanes["io"]!["bound"]!.GetValue<int>().ShouldBe(17);
        lanes["cpu"]!["inUse"]!.GetValue<int>().ShouldBe(0);
        lanes["io"]!["waiting"]!.GetValue<int>().ShouldBe(0);
    }
}
