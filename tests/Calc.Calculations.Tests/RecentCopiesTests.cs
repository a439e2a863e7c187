using System.Net;
using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Data;
using Calc.Testing;
using Microsoft.Extensions.Options;

namespace Calc.Calculations.Tests;

/// <summary>
/// Each instance starts a term or a finalize from its copy of the calculation it wrote last (Calculations:RecentCopies):
/// two instances on one database change a calculation behind each other's copies, and no answer or write may come
/// from a stale copy.
/// </summary>
public sealed class RecentCopiesTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_term_added_through_another_instance_is_kept_when_the_creating_instance_adds_one_from_its_older_copy()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var first = CalculationsApp.OnPostgresDatabase(database);
        await using var second = CalculationsApp.OnPostgresDatabase(database);
        var creator = new CalculationsClient(first.CreateClient());
        var other = new CalculationsClient(second.CreateClient());

        var id = await creator.CreateIdAsync(new { type = "addition", init = 1 });
        await other.AddTermAsync(id, 10);
        await creator.AddTermAsync(id, 100);
        // The other instance's copy is now older than the store too.
        using var finalize = await other.FinalizeAsync(id);

        finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted, await finalize.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var done = await creator.WaitForFinalAsync(id);
        done["status"]!.GetValue<string>().ShouldBe("done");
        done["result"]!.ToString().ShouldBe("111");
    }

    [Fact]
    public async Task A_term_sent_to_the_creating_instance_after_another_finalized_the_calculation_is_refused_with_409()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var first = CalculationsApp.OnPostgresDatabase(database);
        await using var second = CalculationsApp.OnPostgresDatabase(database);
        var creator = new CalculationsClient(first.CreateClient());
        var other = new CalculationsClient(second.CreateClient());

        var id = await creator.CreateIdAsync(new { type = "addition", init = 1 });
        using (var finalize = await other.FinalizeAsync(id))
        {
            finalize.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }

        // The creator's copy still says building; the store says otherwise, and the store decides.
        await creator.AddTermAsync(id, 10, HttpStatusCode.Conflict);
        (await other.WaitForFinalAsync(id))["result"]!.ToString().ShouldBe("1");
    }

    [Fact]
    public async Task A_finalize_sent_to_the_creating_instance_after_another_cancelled_the_calculation_starts_nothing_and_answers_cancelled()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var first = CalculationsApp.OnPostgresDatabase(database);
        await using var second = CalculationsApp.OnPostgresDatabase(database);
        var creator = new CalculationsClient(first.CreateClient());
        var other = new CalculationsClient(second.CreateClient());

        var id = await creator.CreateIdAsync(new { type = "addition", init = 1 });
        (await other.CancelAsync(id))["status"]!.GetValue<string>().ShouldBe("cancelled");

        using var finalize = await creator.FinalizeAsync(id);

        var answer = await CalculationsClient.ReadAsync(finalize, HttpStatusCode.OK);
        answer["status"]!.GetValue<string>().ShouldBe("cancelled");
        (await creator.GetAsync(id))["status"]!.GetValue<string>().ShouldBe("cancelled");
    }
}

public sealed class RecentCopiesBoundsTests
{
    private static StoredDocument<Calculation> Copy(string id, string init = "1", params string[] terms) => new(
        id,
        new Calculation { Id = id, Type = CalculationType.Addition, Init = init, Terms = terms, TimeoutSeconds = 60, CreatedAt = DateTimeOffset.UnixEpoch },
        Version: 1,
        ExpiresAt: null);

    private static RecentCopies Create(int copies, int maxDigits) =>
        new(Options.Create(new CalculationsOptions { RecentCopies = copies, RecentCopyMaxDigits = maxDigits }));

    [Fact]
    public void No_more_copies_are_kept_than_RecentCopies()
    {
        var copies = Create(copies: 3, maxDigits: 100);

        for (var i = 0; i < 10; i++)
        {
            copies.Keep(Copy($"c{i}"));
        }

        Enumerable.Range(0, 10).Count(i => copies.Take($"c{i}") is not null).ShouldBe(3);
    }

    [Fact]
    public void A_calculation_with_more_digits_than_RecentCopyMaxDigits_is_not_kept_and_its_older_copy_is_dropped()
    {
        var copies = Create(copies: 10, maxDigits: 10);
        copies.Keep(Copy("small", "12345", "12345"));
        copies.Keep(Copy("grown", "12345"));

        copies.Keep(Copy("grown", "12345", "123456"));

        copies.Take("small").ShouldNotBeNull();
        copies.Take("grown").ShouldBeNull();
    }

    [Fact]
    public void RecentCopies_0_keeps_nothing()
    {
        var copies = Create(copies: 0, maxDigits: 100);

        copies.Keep(Copy("c"));

        copies.Take("c").ShouldBeNull();
    }
}
