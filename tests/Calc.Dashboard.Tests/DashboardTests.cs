using System.Net;
using System.Net.Http.Json;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Calc.Dashboard.Tests;

/// <summary>The dashboard in headless chromium against the running system, one test per thing a user does or sees.</summary>
[Collection(DashboardGroup.Name)]
public sealed class DashboardTests(DashboardSystem system)
{
    private static readonly LocatorAssertionsToHaveTextOptions Slow = new() { Timeout = 90_000 };

    [Fact]
    public async Task A_factorial_created_in_the_page_is_watched_until_done_with_every_digit_right()
    {
        const int N = 1000;
        var expected = Enumerable.Range(2, N - 1).Aggregate(BigInteger.One, (product, k) => product * k).ToString(System.Globalization.CultureInfo.InvariantCulture);

        await WithDashboardAsync(async page =>
        {
            var writes = new System.Collections.Concurrent.ConcurrentQueue<string?>();
            page.Request += (_, request) =>
            {
                if (request.Method is "POST" or "PUT")
                {
                    writes.Enqueue(request.Headers.GetValueOrDefault("idempotency-key"));
                }
            };
            await page.GetByLabel("Type").SelectOptionAsync("factorial");
            await Expect(page.GetByTestId("calc-terms")).ToBeDisabledAsync();
            await page.GetByLabel("Initial value").FillAsync(N.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await page.GetByTestId("calc-submit").ClickAsync();

            await Expect(page.GetByTestId("calc-watch-status")).ToHaveTextAsync("done", Slow);
            // The create and the finalize each carried a key of their own, so the gateway could send them again.
            writes.Count.ShouldBeGreaterThanOrEqualTo(2);
            writes.ShouldAllBe(key => key != null && key.StartsWith("dash-", StringComparison.Ordinal));
            writes.Distinct().Count().ShouldBe(writes.Count);
            await Expect(page.GetByTestId("calc-watch-digits")).ToHaveTextAsync(expected.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            (await page.GetByTestId("calc-watch-result").TextContentAsync()).ShouldBe(expected);
            await Expect(page.Locator("#calc-watch-states li[aria-current=step]")).ToHaveTextAsync("done");

            // The finished calculation shows up in the list, and the chart has drawn its samples.
            var id = await page.GetByTestId("calc-watch-id").TextContentAsync();
            await Expect(page.Locator($"#calc-rows tr[data-id='{id}']")).ToHaveAttributeAsync("data-status", "done");
            await Expect(page.Locator("#chart polyline[data-series=calcProcessing]")).ToHaveAttributeAsync("points", new Regex(@"\d+(\.\d)?,\d+(\.\d)? \d"));
        });
    }

    [Fact]
    public async Task At_capacity_the_page_says_all_instances_are_busy_and_when_to_retry_and_the_retry_then_succeeds()
    {
        using var http = new HttpClient { BaseAddress = system.Gateway, Timeout = TimeSpan.FromSeconds(60) };
        var slow = await FillEveryCalculationSlotAsync(http);
        try
        {
            await WithDashboardAsync(async page =>
            {
                await page.GetByLabel("Type").SelectOptionAsync("addition");
                await page.GetByLabel("Initial value").FillAsync("40");
                await page.GetByLabel("Terms").FillAsync("2");
                await page.GetByTestId("calc-submit").ClickAsync();

                var message = page.GetByTestId("calc-message");
                await Expect(message).ToContainTextAsync("All instances are busy");
                await Expect(message).ToContainTextAsync(new Regex(@"Retry in \d+ s\.|You can retry now\."));
                await Expect(message).ToContainTextAsync("kept as building");
                await Expect(page.GetByTestId("calc-watch-status")).ToHaveTextAsync("building");
                await Expect(page.GetByTestId("calc-retry")).ToBeVisibleAsync();
                await Screenshots.SaveAsync(page, "At_capacity_refusal");

                // Free the slots; "Finalize again" then goes through.
                await CancelAsync(http, slow);
                slow.Clear();
                await RetryUntilProcessingAsync(page);
                await Expect(page.GetByTestId("calc-watch-status")).ToHaveTextAsync("done", Slow);
                await Expect(page.GetByTestId("calc-watch-result")).ToHaveTextAsync("42");
            });
        }
        finally
        {
            await CancelAsync(http, slow);
        }
    }

    [Fact]
    public async Task A_stopped_instance_leaves_the_cluster_view()
    {
        const string Extra = "calc-extra";
        var instance = await system.StartCalculationsAsync(Extra);
        try
        {
            await WithDashboardAsync(async page =>
            {
                var row = page.Locator($"[data-testid=instance-row][data-instance='{Extra}']");
                await Expect(row).ToBeVisibleAsync();
                await Expect(row).ToHaveAttributeAsync("data-circuit", "closed");
                await Expect(row).ToContainTextAsync(instance.BaseAddress.ToString().TrimEnd('/'));
                await Expect(page.GetByTestId("service-calculations-totals")).ToHaveTextAsync(new Regex(@"^3 instance\(s\),"));
                await Screenshots.SaveAsync(page, "A_stopped_instance_before_it_stopped");

                // Killed by its PID (SIGKILL, no deregistration): it leaves once its registry entry's TTL runs out.
                await instance.KillAsync();
                await Expect(row).ToHaveCountAsync(0, new() { Timeout = 60_000 });
                await Expect(page.GetByTestId("service-calculations-totals")).ToHaveTextAsync(new Regex(@"^2 instance\(s\),"));
                foreach (var id in DashboardSystem.CalculationInstances)
                {
                    await Expect(page.Locator($"[data-testid=instance-row][data-instance='{id}']")).ToBeVisibleAsync();
                }
            });
        }
        finally
        {
            await instance.KillAsync(); // the cluster disposes it with the rest
        }
    }

    [Fact]
    public async Task A_field_error_from_the_API_is_shown_next_to_its_field()
    {
        await WithDashboardAsync(async page =>
        {
            await page.GetByLabel("Type").SelectOptionAsync("addition");
            await page.GetByLabel("Initial value").FillAsync("12abc");
            await page.GetByTestId("calc-submit").ClickAsync();

            var initError = page.GetByTestId("calc-init-error");
            await Expect(initError).ToContainTextAsync("'init'");
            await Expect(page.GetByTestId("calc-init")).ToHaveAttributeAsync("aria-invalid", "true");
            await Expect(page.GetByTestId("calc-watch")).ToBeHiddenAsync(); // nothing was created
            await Screenshots.SaveAsync(page, "A_field_error_on_init");

            // A bad term: the calculation exists with the good terms; the error names the term, next to the terms.
            await page.GetByLabel("Initial value").FillAsync("5");
            await page.GetByLabel("Terms").FillAsync("1, 2x");
            await page.GetByTestId("calc-submit").ClickAsync();
            await Expect(page.GetByTestId("calc-terms-error")).ToContainTextAsync("Term 2 (2x)");
            await Expect(page.GetByTestId("calc-terms")).ToHaveAttributeAsync("aria-invalid", "true");
            await Expect(initError).ToBeEmptyAsync();
            await Expect(page.GetByTestId("calc-message")).ToContainTextAsync("created with 1 term(s)");
            await Expect(page.GetByTestId("calc-watch-status")).ToHaveTextAsync("building");
        });
    }

    [Fact]
    public async Task A_budget_job_created_in_the_page_is_watched_until_done_after_its_field_errors_are_fixed()
    {
        await WithDashboardAsync(async page =>
        {
            // Invalid first: both field errors, each next to its field.
            await page.GetByLabel("Budget", new() { Exact = true }).FillAsync("12.345");
            await page.GetByLabel("Days online").FillAsync("0");
            await page.GetByTestId("job-submit").ClickAsync();
            await Expect(page.GetByTestId("job-budget-error")).ToContainTextAsync("'budget'");
            await Expect(page.GetByTestId("job-days-error")).ToContainTextAsync("'daysOnline'");
            await Expect(page.GetByTestId("job-watch")).ToBeHiddenAsync();

            await page.GetByLabel("Budget", new() { Exact = true }).FillAsync("100");
            await page.GetByLabel("Days online").FillAsync("3");
            await page.GetByTestId("job-submit").ClickAsync();
            await Expect(page.GetByTestId("job-budget-error")).ToBeEmptyAsync();

            await Expect(page.GetByTestId("job-watch-status")).ToHaveTextAsync("done", Slow);
            await Expect(page.GetByTestId("job-watch-total")).ToHaveTextAsync("100.00 of 100.00 over 3 day(s)");
            await Expect(page.Locator("#job-watch-days tr")).ToHaveCountAsync(3);
            await Expect(page.GetByTestId("job-watch-worker")).ToContainTextAsync(DashboardSystem.JobsInstance);
            var id = await page.GetByTestId("job-watch-id").TextContentAsync();
            await Expect(page.Locator($"#job-rows tr[data-id='{id}']")).ToHaveAttributeAsync("data-status", "done");
        });
    }

    [Fact]
    public async Task The_lists_filter_by_status_and_page_through_the_results()
    {
        using var http = new HttpClient { BaseAddress = system.Gateway, Timeout = TimeSpan.FromSeconds(60) };
        for (var i = 0; i < 12; i++)
        {
            var id = await CreateAsync(http, new { type = "addition", init = i });
            using var finalize = await http.PutAsync(new Uri($"/calculations/{id}/finalize", UriKind.Relative), null, TestContext.Current.CancellationToken);
            finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }

        var building = await CreateAsync(http, new { type = "multiplication", init = 7 });

        await WithDashboardAsync(async page =>
        {
            await page.Locator("#calc-filter").SelectOptionAsync("done");
            await page.Locator("#calc-page-size").SelectOptionAsync("10");
            await Expect(page.GetByTestId("calc-page")).ToHaveTextAsync(new Regex(@"^Page 1 of [2-9]\d* · \d+ calculation\(s\)$"));
            await Expect(page.Locator("#calc-rows tr")).ToHaveCountAsync(10);
            await Expect(page.Locator("#calc-rows tr:not([data-status=done])")).ToHaveCountAsync(0);
            await Expect(page.GetByTestId("calc-prev")).ToBeDisabledAsync();

            await page.GetByTestId("calc-next").ClickAsync();
            await Expect(page.GetByTestId("calc-page")).ToHaveTextAsync(new Regex("^Page 2 of "));
            await Expect(page.GetByTestId("calc-prev")).ToBeEnabledAsync();

            await page.Locator("#calc-filter").SelectOptionAsync("building");
            await Expect(page.GetByTestId("calc-page")).ToHaveTextAsync(new Regex("^Page 1 of "));
            await Expect(page.Locator($"#calc-rows tr[data-id='{building}']")).ToHaveAttributeAsync("data-status", "building");
            await Expect(page.Locator("#calc-rows tr:not([data-status=building])")).ToHaveCountAsync(0);
        });
    }

    [Fact]
    public async Task Over_the_rate_limit_the_page_says_too_many_requests_and_when_to_retry()
    {
        // A second gateway on the same registry that lets a client make only a few routed requests per minute: the
        // page's own polling of the lists uses them up, then creating a calculation is refused with 429.
        var limited = await system.Cluster.StartGatewayAsync(("RateLimiting:PermitLimit", "4"), ("RateLimiting:WindowSeconds", "60"));
        try
        {
            await WithDashboardAsync(
                async page =>
                {
                    await Expect(page.GetByTestId("calc-list-message")).ToContainTextAsync("Too many requests");
                    await page.GetByLabel("Initial value").FillAsync("1");
                    await page.GetByTestId("calc-submit").ClickAsync();
                    var message = page.GetByTestId("calc-message");
                    await Expect(message).ToContainTextAsync("Too many requests from this browser");
                    await Expect(message).ToContainTextAsync(new Regex(@"Retry in \d+ s\."));
                    await Expect(page.GetByTestId("calc-watch")).ToBeHiddenAsync();

                    // The page itself is not rate limited: it still loads, and says why its lists are empty.
                    var reload = await page.ReloadAsync();
                    reload!.Status.ShouldBeOneOf(200, 304); // 304: revalidated by its ETag
                    await Expect(page.GetByTestId("calc-list-message")).ToContainTextAsync("Too many requests");
                },
                new Uri(limited.BaseAddress, "/dashboard/"));
        }
        finally
        {
            await limited.KillAsync(); // the cluster disposes it with the rest
        }
    }

    [Fact]
    public async Task The_dashboard_is_served_by_the_gateway_and_its_path_without_a_slash_redirects()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = system.Gateway };
        var ct = TestContext.Current.CancellationToken;
        using (var redirect = await http.GetAsync(new Uri("/dashboard?x=1", UriKind.Relative), ct))
        {
            redirect.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            redirect.Headers.Location!.OriginalString.ShouldBe("/dashboard/?x=1");
        }

        using (var index = await http.GetAsync(new Uri("/dashboard/", UriKind.Relative), ct))
        {
            index.StatusCode.ShouldBe(HttpStatusCode.OK);
            index.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
            index.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("script-src 'self'");
            (await index.Content.ReadAsStringAsync(ct)).ShouldContain("<title>Calc dashboard</title>");

            using var again = new HttpRequestMessage(HttpMethod.Get, "/dashboard/");
            again.Headers.IfNoneMatch.Add(index.Headers.ETag!);
            using var notModified = await http.SendAsync(again, ct);
            notModified.StatusCode.ShouldBe(HttpStatusCode.NotModified);
        }

        using (var script = await http.GetAsync(new Uri("/dashboard/dashboard.js", UriKind.Relative), ct))
        {
            script.StatusCode.ShouldBe(HttpStatusCode.OK);
            script.Content.Headers.ContentType!.MediaType.ShouldBe("text/javascript");
        }

        using (var missing = await http.GetAsync(new Uri("/dashboard/nothing.js", UriKind.Relative), ct))
        {
            missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        // In the browser: /dashboard lands on /dashboard/, draws the cluster, and logs no error (a script error or a
        // content-security-policy violation would show up here).
        var context = await system.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => errors.Add(error);
        try
        {
            await page.GotoAsync(new Uri(system.Gateway, "/dashboard").ToString());
            page.Url.ShouldEndWith("/dashboard/");
            await Expect(page.Locator("[data-testid=instance-row]")).ToHaveCountAsync(DashboardSystem.CalculationInstances.Length + 1);
            await Expect(page.GetByTestId("connection")).ToContainTextAsync("Connected");
            await Expect(page.Locator("#chart-legend li")).ToHaveCountAsync(4);
            await page.WaitForTimeoutAsync(3000); // a few polling rounds
            errors.ShouldBeEmpty();
        }
        finally
        {
            await Screenshots.SaveAsync(page, nameof(The_dashboard_is_served_by_the_gateway_and_its_path_without_a_slash_redirects));
            await context.CloseAsync();
        }
    }

    /// <summary>Opens the dashboard in a fresh context, runs the test, and keeps a screenshot named after it (passed or not).</summary>
    private async Task WithDashboardAsync(Func<IPage, Task> test, Uri? dashboard = null, [CallerMemberName] string name = "")
    {
        var page = await system.OpenDashboardAsync(dashboard);
        try
        {
            await test(page);
        }
        finally
        {
            await Screenshots.SaveAsync(page, name);
            await page.Context.CloseAsync();
        }
    }

    private static async Task<string> CreateAsync(HttpClient http, object request)
    {
        using var response = await http.PostAsJsonAsync("/calculations", request, TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var body = await response.Content.ReadFromJsonAsync<JsonObject>(TestContext.Current.CancellationToken);
        return body!["id"]!.GetValue<string>();
    }

    /// <summary>
    /// Starts slow factorials (managed engine, minutes of work) until a finalize is refused: then every slot of the
    /// cluster is taken. Returns every calculation created, to cancel afterwards.
    /// </summary>
    private static async Task<List<string>> FillEveryCalculationSlotAsync(HttpClient http)
    {
        var created = new List<string>();
        for (var attempt = 0; attempt < 6; attempt++)
        {
            var id = await CreateAsync(http, new { type = "factorial", init = 3_000_000, timeoutSeconds = 300 });
            created.Add(id);
            using var finalize = await http.PutAsync(new Uri($"/calculations/{id}/finalize", UriKind.Relative), null, TestContext.Current.CancellationToken);
            if (finalize.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                created.Count.ShouldBe(DashboardSystem.CalculationInstances.Length + 1, "one slot per instance, then the refusal");
                return created;
            }

            finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }

        throw new ShouldAssertException("Six slow calculations were all accepted: the cluster has more slots than the test expects.");
    }

    private static async Task CancelAsync(HttpClient http, List<string> ids)
    {
        foreach (var id in ids)
        {
            using var _ = await http.DeleteAsync(new Uri($"/calculations/{id}", UriKind.Relative), CancellationToken.None);
        }
    }

    /// <summary>
    /// Clicks "Finalize again" until the calculation leaves building: a cancelled calculation's slot is freed once its
    /// work notices the cancellation (between two multiplications), so the first retry may still find no slot.
    /// </summary>
    private static async Task RetryUntilProcessingAsync(IPage page)
    {
        var status = page.GetByTestId("calc-watch-status");
        for (var attempt = 0; attempt < 30; attempt++)
        {
            await page.GetByTestId("calc-retry").ClickAsync();
            try
            {
                await Expect(status).Not.ToHaveTextAsync("building", new() { Timeout = 2000 });
                return;
            }
            catch (PlaywrightException)
            {
                // Still refused: the page shows the countdown again; try once more.
            }
        }

        throw new TimeoutException("The calculation stayed building after 30 retries of 'Finalize again'.");
    }
}
