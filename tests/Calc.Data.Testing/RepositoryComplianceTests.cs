using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Calc.Data.Testing;

/// <summary>
/// The behaviour every <see cref="IDocumentRepository{T}"/> provider must have. A provider closes this class with an
/// empty subclass over its own fixture. Each test works on a collection of its own, so tests share no data.
/// </summary>
public abstract class RepositoryComplianceTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>, IAsyncDisposable
    where TFixture : class, IDocumentStoreFixture
{
    private const int ConcurrencyRounds = 20;

    private readonly List<ServiceProvider> _services = [];
    private readonly string _collectionName = $"orders_{Guid.NewGuid():N}";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DateTimeOffset Past => DateTimeOffset.UtcNow.AddMinutes(-5);

    private static DateTimeOffset Future => DateTimeOffset.UtcNow.AddHours(1);

    [Fact]
    public async Task Loading_a_missing_document_returns_null()
    {
        var orders = Orders();

        (await orders.LoadAsync("missing", Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task An_inserted_document_loads_at_version_1_with_the_same_content()
    {
        var orders = Orders();
        var order = Order.Sample();

        var inserted = await orders.InsertAsync("o1", order, cancellationToken: Ct);
        var loaded = await orders.LoadAsync("o1", Ct);

        inserted.Status.ShouldBe(WriteStatus.Written);
        inserted.Stored.ShouldBe(new StoredDocument<Order>("o1", order, 1, null));
        loaded.ShouldNotBeNull();
        loaded.Id.ShouldBe("o1");
        loaded.Version.ShouldBe(1);
        loaded.ExpiresAt.ShouldBeNull();
        loaded.Document.ShouldBeEquivalentTo(order);
        loaded.Document.PlacedAt.Offset.ShouldBe(TimeSpan.FromHours(2));
    }

    [Fact]
    public async Task LoadMany_returns_each_present_document_once_and_leaves_out_missing_ids()
    {
        var orders = Orders();
        await InsertAllAsync(orders, ("a", Order.Sample("ada", rank: 1)), ("b", Order.Sample("bob", rank: 2)), ("c", Order.Sample("cy", rank: 3)));
        await orders.UpdateAsync("b", Order.Sample("bea", rank: 2), expectedVersion: 1, cancellationToken: Ct);
        var expiresAt = new DateTimeOffset(2999, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);
        await orders.InsertAsync("d", Order.Sample("dee"), expiresAt, Ct);

        var loaded = await orders.LoadManyAsync(["c", "missing", "a", "b", "a", "d"], Ct);

        loaded.OrderBy(stored => stored.Id, StringComparer.Ordinal).Select(stored => (stored.Id, stored.Document.Customer, stored.Version, stored.ExpiresAt))
            .ShouldBe([("a", "ada", 1L, null), ("b", "bea", 2L, null), ("c", "cy", 1L, null), ("d", "dee", 1L, (DateTimeOffset?)expiresAt)]);
        loaded.Single(stored => stored.Id == "a").Document.ShouldBeEquivalentTo(Order.Sample("ada", rank: 1));
    }

    [Fact]
    public async Task LoadMany_leaves_out_an_expired_document()
    {
        var orders = Orders();
        await InsertAllAsync(orders, ("live", Order.Sample()));
        await orders.InsertAsync("expired", Order.Sample(), Past, Ct);
        await orders.InsertAsync("updated_to_expired", Order.Sample(), Future, Ct);
        await orders.UpdateAsync("updated_to_expired", Order.Sample(), expectedVersion: 1, Past, Ct);

        var loaded = await orders.LoadManyAsync(["expired", "live", "updated_to_expired"], Ct);

        loaded.Select(stored => stored.Id).ShouldBe(["live"]);
    }

    [Fact]
    public async Task LoadMany_returns_every_document_when_there_are_more_ids_than_one_chunk()
    {
        var orders = Orders();
        var ids = Enumerable.Range(0, 1200).Select(i => $"o{i:D4}").ToArray();
        // Concurrent inserts, bounded, so that 1,200 documents do not take 1,200 sequential round trips to set up.
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct }, async (id, ct) =>
            (await orders.InsertAsync(id, Order.Sample(id, rank: int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture)), cancellationToken: ct)).Status.ShouldBe(WriteStatus.Written));

        var loaded = await orders.LoadManyAsync([.. ids, "missing"], Ct);

        loaded.Select(stored => stored.Id).Order(StringComparer.Ordinal).ShouldBe(ids);
        loaded.ShouldAllBe(stored => stored.Document.Customer == stored.Id);
    }

    [Fact]
    public async Task LoadMany_of_no_ids_returns_an_empty_list()
    {
        var orders = Orders();
        await InsertAllAsync(orders, ("o1", Order.Sample()));

        (await orders.LoadManyAsync([], Ct)).ShouldBeEmpty();
    }

    [Fact]
    public async Task LoadMany_rejects_a_null_list_and_a_null_or_empty_id()
    {
        var orders = Orders();

        await Should.ThrowAsync<ArgumentNullException>(() => orders.LoadManyAsync(null!, Ct));
        await Should.ThrowAsync<ArgumentException>(() => orders.LoadManyAsync(["o1", ""], Ct));
        await Should.ThrowAsync<ArgumentException>(() => orders.LoadManyAsync(["o1", null!], Ct));
    }

    [Fact]
    public async Task Inserting_an_id_that_exists_is_rejected_and_keeps_the_first_document()
    {
        var orders = Orders();
        await orders.InsertAsync("o1", Order.Sample("first"), cancellationToken: Ct);

        var second = await orders.InsertAsync("o1", Order.Sample("second"), cancellationToken: Ct);

        second.Status.ShouldBe(WriteStatus.AlreadyExists);
        second.Stored.ShouldBeNull();
        (await orders.LoadAsync("o1", Ct))!.Document.Customer.ShouldBe("first");
    }

    [Fact]
    public async Task Update_with_the_current_version_writes_version_2()
    {
        var orders = Orders();
        await orders.InsertAsync("o1", Order.Sample(), cancellationToken: Ct);
        var changed = Order.Sample("grace", OrderStatus.InTransit, rank: 7);

        var updated = await orders.UpdateAsync("o1", changed, expectedVersion: 1, cancellationToken: Ct);

        updated.Status.ShouldBe(WriteStatus.Written);
        updated.Stored!.Version.ShouldBe(2);
        var loaded = await orders.LoadAsync("o1", Ct);
        loaded!.Version.ShouldBe(2);
        loaded.Document.ShouldBeEquivalentTo(changed);
    }

    [Fact]
    public async Task Update_with_a_stale_version_is_rejected_and_changes_nothing()
    {
        var orders = Orders();
        await orders.InsertAsync("o1", Order.Sample("first"), cancellationToken: Ct);
        await orders.UpdateAsync("o1", Order.Sample("second"), expectedVersion: 1, cancellationToken: Ct);

        var stale = await orders.UpdateAsync("o1", Order.Sample("stale"), expectedVersion: 1, cancellationToken: Ct);

        stale.Status.ShouldBe(WriteStatus.VersionConflict);
        stale.Stored.ShouldBeNull();
        var loaded = await orders.LoadAsync("o1", Ct);
        loaded!.Version.ShouldBe(2);
        loaded.Document.Customer.ShouldBe("second");
    }

    [Fact]
    public async Task Updating_a_missing_document_returns_not_found()
    {
        var orders = Orders();

        var result = await orders.UpdateAsync("missing", Order.Sample(), expectedVersion: 1, cancellationToken: Ct);

        result.Status.ShouldBe(WriteStatus.NotFound);
        (await orders.LoadAsync("missing", Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task Of_two_concurrent_writers_on_one_version_exactly_one_wins_every_round()
    {
        var orders = Orders();
        await orders.InsertAsync("o1", Order.Sample(), cancellationToken: Ct);

        for (var round = 0; round < ConcurrencyRounds; round++)
        {
            var version = round + 1L;
            var results = await Task.WhenAll(
                Task.Run(() => orders.UpdateAsync("o1", Order.Sample("left", rank: round), version, cancellationToken: Ct), Ct),
                Task.Run(() => orders.UpdateAsync("o1", Order.Sample("right", rank: round), version, cancellationToken: Ct), Ct));

            results.Select(result => result.Status).Order().ToArray().ShouldBe([WriteStatus.Written, WriteStatus.VersionConflict], $"round {round}");
            var winner = results.Single(result => result.Succeeded).Stored!;
            var loaded = await orders.LoadAsync("o1", Ct);
            loaded!.Version.ShouldBe(version + 1);
            loaded.Document.Customer.ShouldBe(winner.Document.Customer);
        }
    }

    [Fact]
    public async Task Updating_a_deleted_document_returns_not_found_and_does_not_bring_it_back()
    {
        var orders = Orders();
        await orders.InsertAsync("o1", Order.Sample(), cancellationToken: Ct);
        (await orders.DeleteAsync("o1", Ct)).ShouldBeTrue();

        var result = await orders.UpdateAsync("o1", Order.Sample("late"), expectedVersion: 1, cancellationToken: Ct);

        result.Status.ShouldBe(WriteStatus.NotFound);
        (await orders.LoadAsync("o1", Ct)).ShouldBeNull();
        (await orders.CountAsync(cancellationToken: Ct)).ShouldBe(0);
    }

    [Fact]
    public async Task An_update_racing_a_delete_never_brings_the_document_back()
    {
        var orders = Orders();

        for (var round = 0; round < ConcurrencyRounds; round++)
        {
            var id = $"o{round}";
            await orders.InsertAsync(id, Order.Sample(), cancellationToken: Ct);
            var update = Task.Run(() => orders.UpdateAsync(id, Order.Sample("late"), expectedVersion: 1, cancellationToken: Ct), Ct);
            var delete = Task.Run(() => orders.DeleteAsync(id, Ct), Ct);
            await Task.WhenAll(update, delete);

            // Whichever ran first, the delete removed a live document and nothing is left: an update after the delete
            // finds no document (it must not write one back), an update before it was deleted with the document.
            (await delete).ShouldBeTrue($"round {round}");
            (await update).Status.ShouldBeOneOf([WriteStatus.Written, WriteStatus.NotFound], $"round {round}");
            (await orders.LoadAsync(id, Ct)).ShouldBeNull($"round {round}");
        }
    }

    [Fact]
    public async Task Concurrent_read_modify_write_changes_lose_no_update_and_keep_the_expiry()
    {
        var orders = Orders();
        var expiresAt = DateTimeOffset.UtcNow.AddHours(1);
        await orders.InsertAsync("counter", Order.Sample(rank: 0), expiresAt, Ct);

        // 20 writers each add 1 to the rank through ChangeAsync: conflicts are retried, so the sum is exact.
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(
            () => orders.ChangeAsync("counter", order => order with { Rank = order.Rank + 1 }, Ct), Ct)));
        var unchanged = await orders.ChangeAsync("counter", _ => null, Ct);
        var missing = await orders.ChangeAsync("nobody", order => order, Ct);

        var loaded = await orders.LoadAsync("counter", Ct);
        loaded!.Document.Rank.ShouldBe(20);
        loaded.Version.ShouldBe(21);
        loaded.ExpiresAt!.Value.ToUnixTimeMilliseconds().ShouldBe(expiresAt.ToUnixTimeMilliseconds());
        unchanged!.Changed.ShouldBeFalse();
        missing.ShouldBeNull();
    }

    [Fact]
    public async Task A_change_from_a_current_copy_writes_without_loading_and_returns_the_next_copy()
    {
        var store = Orders();
        var expiresAt = DateTimeOffset.UtcNow.AddHours(1);
        var inserted = await store.InsertAsync("o1", Order.Sample(rank: 1), expiresAt, Ct);
        var orders = new LoadCounting<Order>(store);

        var first = await orders.ChangeAsync(inserted.Stored!, order => order with { Rank = order.Rank + 1 }, Ct);
        var second = await orders.ChangeAsync(first!.Stored, order => order with { Rank = order.Rank + 1 }, Ct);

        orders.Loads.ShouldBe(0);
        second!.Changed.ShouldBeTrue();
        second.Stored.Version.ShouldBe(3);
        var loaded = await store.LoadAsync("o1", Ct);
        loaded!.Document.Rank.ShouldBe(3);
        loaded.Version.ShouldBe(3);
        loaded.ExpiresAt!.Value.ToUnixTimeMilliseconds().ShouldBe(expiresAt.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task A_change_from_a_stale_copy_is_applied_to_the_stored_document_and_loses_no_update()
    {
        var orders = Orders();
        var stale = (await orders.InsertAsync("o1", Order.Sample(rank: 1), cancellationToken: Ct)).Stored!;
        await orders.UpdateAsync("o1", Order.Sample(rank: 10), expectedVersion: 1, cancellationToken: Ct);

        var changed = await orders.ChangeAsync(stale, order => order with { Rank = order.Rank + 1 }, Ct);

        changed!.Changed.ShouldBeTrue();
        changed.Stored.Version.ShouldBe(3);
        (await orders.LoadAsync("o1", Ct))!.Document.Rank.ShouldBe(11);
    }

    [Fact]
    public async Task A_change_declined_on_a_stale_copy_is_decided_again_on_the_stored_document()
    {
        var orders = Orders();
        var stale = (await orders.InsertAsync("o1", Order.Sample(status: OrderStatus.Delivered), cancellationToken: Ct)).Stored!;
        await orders.UpdateAsync("o1", Order.Sample(status: OrderStatus.Open), expectedVersion: 1, cancellationToken: Ct);

        // Only an open order is changed: the copy says delivered, the stored document is open.
        var changed = await orders.ChangeAsync(stale, order => order.Status == OrderStatus.Open ? order with { Rank = 7 } : null, Ct);

        changed!.Changed.ShouldBeTrue();
        (await orders.LoadAsync("o1", Ct))!.Document.Rank.ShouldBe(7);
    }

    [Fact]
    public async Task A_change_from_a_copy_of_a_deleted_document_writes_nothing_and_returns_null()
    {
        var orders = Orders();
        var copy = (await orders.InsertAsync("o1", Order.Sample(), cancellationToken: Ct)).Stored!;
        await orders.DeleteAsync("o1", Ct);

        var changed = await orders.ChangeAsync(copy, order => order with { Rank = 5 }, Ct);

        changed.ShouldBeNull();
        (await orders.LoadAsync("o1", Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task Of_two_concurrent_inserts_of_one_id_exactly_one_wins()
    {
        var orders = Orders();

        for (var round = 0; round < ConcurrencyRounds; round++)
        {
            var id = $"o{round}";
            var results = await Task.WhenAll(
                Task.Run(() => orders.InsertAsync(id, Order.Sample("left"), cancellationToken: Ct), Ct),
                Task.Run(() => orders.InsertAsync(id, Order.Sample("right"), cancellationToken: Ct), Ct));

            results.Select(result => result.Status).Order().ToArray().ShouldBe([WriteStatus.Written, WriteStatus.AlreadyExists], $"round {round}");
        }
    }

    [Fact]
    public async Task Two_instances_using_a_new_collection_at_once_both_work()
    {
        // Two service providers stand for two service instances creating the same table on first use.
        var instances = Enumerable.Range(0, 4).Select(_ => Orders()).ToArray();

        var results = await Task.WhenAll(instances.Select((orders, i) =>
            Task.Run(() => orders.InsertAsync($"o{i}", Order.Sample(), cancellationToken: Ct), Ct)));

        results.ShouldAllBe(result => result.Succeeded);
        (await instances[0].CountAsync(cancellationToken: Ct)).ShouldBe(instances.Length);
    }

    [Fact]
    public async Task Instances_starting_at_once_each_prepare_the_new_collection_and_then_work()
    {
        // What the host does at start (the store's InitializeAsync), by several instances at the same moment.
        var instances = Enumerable.Range(0, 3).Select(_ => Services()).ToArray();

        await Task.WhenAll(instances.Select(services => Task.Run(() => services.GetRequiredService<IDocumentStore>().InitializeAsync(Ct), Ct)));
        var results = await Task.WhenAll(instances.Select((services, i) =>
            services.GetRequiredService<IDocumentRepository<Order>>().InsertAsync($"o{i}", Order.Sample(), cancellationToken: Ct)));

        results.ShouldAllBe(result => result.Succeeded);
        (await instances[0].GetRequiredService<IDocumentRepository<Order>>().CountAsync(cancellationToken: Ct)).ShouldBe(instances.Length);
    }

    [Fact]
    public async Task Delete_removes_the_document_and_reports_whether_there_was_one()
    {
        var orders = Orders();
        await orders.InsertAsync("o1", Order.Sample(), cancellationToken: Ct);

        (await orders.DeleteAsync("o1", Ct)).ShouldBeTrue();
        (await orders.DeleteAsync("o1", Ct)).ShouldBeFalse();
        (await orders.LoadAsync("o1", Ct)).ShouldBeNull();
        (await orders.InsertAsync("o1", Order.Sample(), cancellationToken: Ct)).Stored!.Version.ShouldBe(1);
    }

    [Fact]
    public async Task Query_by_index_value_orders_by_sort_key_then_id()
    {
        var orders = Orders();
        await InsertAllAsync(orders,
            ("b", Order.Sample(rank: 2)),
            ("a", Order.Sample(rank: 2)),
            ("c", Order.Sample(rank: 1)),
            ("d", Order.Sample(status: OrderStatus.InTransit, rank: 0)),
            ("e", Order.Sample(rank: 3)));

        var ascending = await orders.QueryAsync(new DocumentQuery(nameof(OrderStatus.Open)), Ct);
        var descending = await orders.QueryAsync(new DocumentQuery(nameof(OrderStatus.Open), Descending: true), Ct);

        ascending.Select(stored => stored.Id).ShouldBe(["c", "a", "b", "e"]);
        descending.Select(stored => stored.Id).ShouldBe(["e", "b", "a", "c"]);
        ascending[0].Version.ShouldBe(1);
        ascending[0].Document.ShouldBeEquivalentTo(Order.Sample(rank: 1));
    }

    [Fact]
    public async Task Query_pages_with_offset_and_limit()
    {
        var orders = Orders();
        await InsertAllAsync(orders, [.. Enumerable.Range(0, 7).Select(i => ($"o{i}", Order.Sample(rank: i)))]);

        var first = await orders.QueryAsync(new DocumentQuery(nameof(OrderStatus.Open), Offset: 0, Limit: 3), Ct);
        var second = await orders.QueryAsync(new DocumentQuery(nameof(OrderStatus.Open), Offset: 3, Limit: 3), Ct);
        var last = await orders.QueryAsync(new DocumentQuery(nameof(OrderStatus.Open), Offset: 6, Limit: 3), Ct);
        var beyond = await orders.QueryAsync(new DocumentQuery(nameof(OrderStatus.Open), Offset: 7, Limit: 3), Ct);
        var newest = await orders.QueryAsync(new DocumentQuery(nameof(OrderStatus.Open), Offset: 1, Limit: 2, Descending: true), Ct);

        first.Select(stored => stored.Id).ShouldBe(["o0", "o1", "o2"]);
        second.Select(stored => stored.Id).ShouldBe(["o3", "o4", "o5"]);
        last.Select(stored => stored.Id).ShouldBe(["o6"]);
        beyond.ShouldBeEmpty();
        newest.Select(stored => stored.Id).ShouldBe(["o5", "o4"]);
    }

    [Fact]
    public async Task Query_without_an_index_value_returns_every_live_document_including_unindexed_ones()
    {
        var orders = Orders();
        await InsertAllAsync(orders,
            ("open", Order.Sample(rank: 1)),
            ("moving", Order.Sample(status: OrderStatus.InTransit, rank: 2)),
            ("delivered", Order.Sample(status: OrderStatus.Delivered, rank: 3)));

        var all = await orders.QueryAsync(new DocumentQuery(), Ct);
        var none = await orders.QueryAsync(new DocumentQuery("no such value"), Ct);

        all.Select(stored => stored.Id).ShouldBe(["open", "moving", "delivered"]);
        none.ShouldBeEmpty();
    }

    [Fact]
    public async Task Count_and_count_by_index_count_live_documents_per_index_value()
    {
        var orders = Orders();
        await InsertAllAsync(orders,
            ("o1", Order.Sample()),
            ("o2", Order.Sample()),
            ("t1", Order.Sample(status: OrderStatus.InTransit)),
            ("d1", Order.Sample(status: OrderStatus.Delivered)));

        (await orders.CountAsync(cancellationToken: Ct)).ShouldBe(4);
        (await orders.CountAsync(nameof(OrderStatus.Open), Ct)).ShouldBe(2);
        (await orders.CountAsync("no such value", Ct)).ShouldBe(0);
        (await orders.CountByIndexAsync(Ct)).ShouldBe(new Dictionary<string, long>
        {
            [nameof(OrderStatus.Open)] = 2,
            [nameof(OrderStatus.InTransit)] = 1,
        }, ignoreOrder: true);
    }

    [Fact]
    public async Task Changing_the_index_value_on_update_moves_the_document_to_the_new_value()
    {
        var orders = Orders();
        await orders.InsertAsync("o1", Order.Sample(), cancellationToken: Ct);

        await orders.UpdateAsync("o1", Order.Sample(status: OrderStatus.InTransit), expectedVersion: 1, cancellationToken: Ct);

        (await orders.QueryAsync(new DocumentQuery(nameof(OrderStatus.Open)), Ct)).ShouldBeEmpty();
        (await orders.QueryAsync(new DocumentQuery(nameof(OrderStatus.InTransit)), Ct)).Select(stored => stored.Id).ShouldBe(["o1"]);
        (await orders.CountByIndexAsync(Ct)).ShouldBe(new Dictionary<string, long> { [nameof(OrderStatus.InTransit)] = 1 });
    }

    [Fact]
    public async Task An_expired_document_is_not_loaded_queried_counted_updated_or_deleted()
    {
        var orders = Orders();
        await orders.InsertAsync("expired", Order.Sample(), Past, Ct);

        (await orders.LoadAsync("expired", Ct)).ShouldBeNull();
        (await orders.QueryAsync(new DocumentQuery(), Ct)).ShouldBeEmpty();
        (await orders.QueryAsync(new DocumentQuery(nameof(OrderStatus.Open)), Ct)).ShouldBeEmpty();
        (await orders.CountAsync(cancellationToken: Ct)).ShouldBe(0);
        (await orders.CountAsync(nameof(OrderStatus.Open), Ct)).ShouldBe(0);
        (await orders.CountByIndexAsync(Ct)).ShouldBeEmpty();
        (await orders.UpdateAsync("expired", Order.Sample(), expectedVersion: 1, cancellationToken: Ct)).Status.ShouldBe(WriteStatus.NotFound);
        (await orders.DeleteAsync("expired", Ct)).ShouldBeFalse();
    }

    [Fact]
    public async Task Paging_and_counting_skip_expired_documents_not_purged_yet()
    {
        var orders = Orders();
        for (var i = 0; i < 5; i++)
        {
            (await orders.InsertAsync($"o{i}", Order.Sample(rank: i), i % 2 == 1 ? Past : null, Ct)).Status.ShouldBe(WriteStatus.Written);
        }

        var indexed = await orders.QueryAsync(new DocumentQuery(nameof(OrderStatus.Open), Offset: 1, Limit: 2), Ct);
        var all = await orders.QueryAsync(new DocumentQuery(Offset: 1, Limit: 5), Ct);
        var newest = await orders.QueryAsync(new DocumentQuery(nameof(OrderStatus.Open), Limit: 2, Descending: true), Ct);

        indexed.Select(stored => stored.Id).ShouldBe(["o2", "o4"]);
        all.Select(stored => stored.Id).ShouldBe(["o2", "o4"]);
        newest.Select(stored => stored.Id).ShouldBe(["o4", "o2"]);
        (await orders.CountAsync(cancellationToken: Ct)).ShouldBe(3);
        (await orders.CountAsync(nameof(OrderStatus.Open), Ct)).ShouldBe(3);
        (await orders.CountByIndexAsync(Ct)).ShouldBe(new Dictionary<string, long> { [nameof(OrderStatus.Open)] = 3 });
    }

    [Fact]
    public async Task Inserting_over_an_expired_document_succeeds_at_version_1()
    {
        var orders = Orders();
        await orders.InsertAsync("o1", Order.Sample("old"), Past, Ct);
        await orders.UpdateAsync("o1", Order.Sample("old"), expectedVersion: 1, cancellationToken: Ct);

        var inserted = await orders.InsertAsync("o1", Order.Sample("new"), cancellationToken: Ct);

        inserted.Status.ShouldBe(WriteStatus.Written);
        var loaded = await orders.LoadAsync("o1", Ct);
        loaded!.Version.ShouldBe(1);
        loaded.ExpiresAt.ShouldBeNull();
        loaded.Document.Customer.ShouldBe("new");
    }

    [Fact]
    public async Task PurgeExpired_removes_expired_documents_and_returns_how_many()
    {
        var orders = Orders();
        await InsertAllAsync(orders, ("live", Order.Sample()));
        await orders.InsertAsync("expired1", Order.Sample(), Past, Ct);
        await orders.InsertAsync("expired2", Order.Sample(), Past, Ct);
        await orders.InsertAsync("later", Order.Sample(), Future, Ct);

        (await orders.PurgeExpiredAsync(Ct)).ShouldBe(2);
        (await orders.PurgeExpiredAsync(Ct)).ShouldBe(0);
        (await orders.CountAsync(cancellationToken: Ct)).ShouldBe(2);
    }

    [Fact]
    public async Task A_document_with_a_future_expiry_is_visible_and_keeps_its_expiry()
    {
        var orders = Orders();
        var expiresAt = new DateTimeOffset(2999, 1, 2, 3, 4, 5, 678, TimeSpan.FromHours(-5));

        var inserted = await orders.InsertAsync("o1", Order.Sample(), expiresAt, Ct);

        inserted.Stored!.ExpiresAt.ShouldBe(expiresAt);
        (await orders.LoadAsync("o1", Ct))!.ExpiresAt.ShouldBe(expiresAt);
        (await orders.QueryAsync(new DocumentQuery(), Ct)).Single().ExpiresAt.ShouldBe(expiresAt);
        (await orders.CountAsync(nameof(OrderStatus.Open), Ct)).ShouldBe(1);
    }

    [Fact]
    public async Task Update_sets_or_removes_the_expiry()
    {
        var orders = Orders();
        await orders.InsertAsync("o1", Order.Sample(), cancellationToken: Ct);
        var expiresAt = new DateTimeOffset(2999, 1, 1, 0, 0, 0, TimeSpan.Zero);

        await orders.UpdateAsync("o1", Order.Sample(), expectedVersion: 1, expiresAt, Ct);
        var withExpiry = await orders.LoadAsync("o1", Ct);
        await orders.UpdateAsync("o1", Order.Sample(), expectedVersion: 2, expiresAt: null, Ct);
        var withoutExpiry = await orders.LoadAsync("o1", Ct);
        await orders.UpdateAsync("o1", Order.Sample(), expectedVersion: 3, Past, Ct);

        withExpiry!.ExpiresAt.ShouldBe(expiresAt);
        withoutExpiry!.ExpiresAt.ShouldBeNull();
        (await orders.LoadAsync("o1", Ct)).ShouldBeNull();
    }

    [Theory]
    [InlineData(-1, 10)]
    [InlineData(0, 0)]
    [InlineData(0, -5)]
    [InlineData(0, 1001)]
    public async Task Query_rejects_a_negative_offset_and_a_limit_outside_1_to_1000(int offset, int limit)
    {
        var orders = Orders();

        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => orders.QueryAsync(new DocumentQuery(Offset: offset, Limit: limit), Ct));
    }

    [Fact]
    public async Task Query_accepts_the_largest_limit()
    {
        var orders = Orders();
        await InsertAllAsync(orders, ("o1", Order.Sample()));

        (await orders.QueryAsync(new DocumentQuery(Limit: 1000), Ct)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task Collections_do_not_see_each_others_documents()
    {
        var orders = Orders();
        var others = Orders($"others_{Guid.NewGuid():N}");
        await orders.InsertAsync("o1", Order.Sample(), cancellationToken: Ct);

        (await others.LoadAsync("o1", Ct)).ShouldBeNull();
        (await others.CountAsync(cancellationToken: Ct)).ShouldBe(0);
        (await others.InsertAsync("o1", Order.Sample(), cancellationToken: Ct)).Status.ShouldBe(WriteStatus.Written);
    }

    [Fact]
    public async Task A_collection_with_the_longest_allowed_name_works()
    {
        var orders = Orders($"long_{Guid.NewGuid():N}".PadRight(63, 'x'));

        await InsertAllAsync(orders, ("o1", Order.Sample()));

        (await orders.QueryAsync(new DocumentQuery(nameof(OrderStatus.Open)), Ct)).Single().Id.ShouldBe("o1");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var services in _services)
        {
            await services.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>A repository for the test's own collection (or <paramref name="name"/>), built as a service would build it.</summary>
    private IDocumentRepository<Order> Orders(string? name = null) => Services(name).GetRequiredService<IDocumentRepository<Order>>();

    /// <summary>The services of one instance of a service using the test's own collection (or <paramref name="name"/>).</summary>
    private ServiceProvider Services(string? name = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(fixture.Settings).Build();
        var services = new ServiceCollection()
            .AddLogging()
            .AddDocumentStore(configuration, fixture.Offer)
            .AddDocumentCollection(new DocumentCollection<Order>
            {
                Name = name ?? _collectionName,
                // Delivered orders leave the index, to cover documents without an index value.
                Index = static order => order.Status == OrderStatus.Delivered ? null : order.Status.ToString(),
                SortKey = static order => order.Rank,
            })
            .BuildServiceProvider();
        _services.Add(services);
        return services;
    }

    private static async Task InsertAllAsync(IDocumentRepository<Order> orders, params (string Id, Order Order)[] documents)
    {
        foreach (var (id, order) in documents)
        {
            (await orders.InsertAsync(id, order, cancellationToken: Ct)).Status.ShouldBe(WriteStatus.Written);
        }
    }
}

/// <summary>A repository that counts the loads it passes on to the real one (every other call goes straight through).</summary>
internal sealed class LoadCounting<T>(IDocumentRepository<T> inner) : IDocumentRepository<T> where T : class
{
    private int _loads;

    public int Loads => Volatile.Read(ref _loads);

    public Task<StoredDocument<T>?> LoadAsync(string id, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _loads);
        return inner.LoadAsync(id, cancellationToken);
    }

    public Task<IReadOnlyList<StoredDocument<T>>> LoadManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default) =>
        inner.LoadManyAsync(ids, cancellationToken);

    public Task<WriteResult<T>> InsertAsync(string id, T document, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default) =>
        inner.InsertAsync(id, document, expiresAt, cancellationToken);

    public Task<WriteResult<T>> UpdateAsync(string id, T document, long expectedVersion, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default) =>
        inner.UpdateAsync(id, document, expectedVersion, expiresAt, cancellationToken);

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) => inner.DeleteAsync(id, cancellationToken);

    public Task<IReadOnlyList<StoredDocument<T>>> QueryAsync(DocumentQuery query, CancellationToken cancellationToken = default) =>
        inner.QueryAsync(query, cancellationToken);

    public Task<long> CountAsync(string? indexValue = null, CancellationToken cancellationToken = default) => inner.CountAsync(indexValue, cancellationToken);

    public Task<IReadOnlyDictionary<string, long>> CountByIndexAsync(CancellationToken cancellationToken = default) => inner.CountByIndexAsync(cancellationToken);

    public Task<long> PurgeExpiredAsync(CancellationToken cancellationToken = default) => inner.PurgeExpiredAsync(cancellationToken);
}
