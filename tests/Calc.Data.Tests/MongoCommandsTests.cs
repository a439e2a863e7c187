using System.Runtime.CompilerServices;
using Calc.Data.Mongo;
using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Bson.Serialization;
using MongoDB.Bson.Serialization.Serializers;
using MongoDB.Driver;
using Newtonsoft.Json.Linq;
using Snapshooter;
using Snapshooter.Xunit3;

namespace Calc.Data.Tests;

/// <summary>
/// Every call the MongoDB provider builds, rendered to BSON by the driver without a server (as it would be sent) and
/// compared with the snapshot under <c>__snapshots__/</c>, in canonical extended JSON so every BSON type shows.
/// </summary>
public sealed class MongoCommandsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, 123, TimeSpan.Zero);

    private static readonly RenderArgs<BsonDocument> Args = new(BsonDocumentSerializer.Instance, BsonSerializer.SerializerRegistry);

    [Fact]
    public void A_live_document_is_one_without_an_expiry_or_with_one_after_now() =>
        Match(MongoCommands.Live(Now.AddTicks(9999)));

    [Fact]
    public void Load_and_delete_filter_on_the_id_and_liveness() =>
        Match(MongoCommands.LiveById("o1", Now));

    [Fact]
    public void LoadMany_filters_on_the_ids_of_a_chunk_and_liveness() =>
        Match(MongoCommands.LiveByIds(["a", "b", "c"], Now));

    [Fact]
    public void A_versioned_update_replaces_only_the_live_document_at_the_expected_version() =>
        Match(MongoCommands.LiveAtVersion("o1", 7, Now));

    [Fact]
    public void The_probe_after_a_failed_update_reads_only_the_version() =>
        MatchBson(MongoCommands.VersionOnly.Render(Args));

    [Fact]
    public void An_insert_over_a_taken_id_replaces_the_document_only_if_it_has_expired() =>
        Match(MongoCommands.ExpiredById("o1", Now));

    [Fact]
    public void The_purge_deletes_documents_whose_expiry_is_now_or_earlier() =>
        Match(MongoCommands.Expired(Now));

    [Fact]
    public void Count_of_one_index_value_filters_on_it_and_liveness() =>
        Match(MongoCommands.LiveWithIndex("open", Now));

    [Fact]
    public void Count_of_every_document_filters_on_liveness_only() =>
        Match(MongoCommands.LiveWithIndex(null, Now));

    [Fact]
    public void A_page_by_index_value_sorts_by_sort_key_then_id_ascending() =>
        Match(MongoCommands.Page(new DocumentQuery("open", Offset: 20, Limit: 10), Now));

    [Fact]
    public void A_descending_page_of_every_document_sorts_by_sort_key_then_id_descending() =>
        Match(MongoCommands.Page(new DocumentQuery(Offset: 0, Limit: 1000, Descending: true), Now));

    [Fact]
    public void Count_by_index_is_one_aggregation_of_live_indexed_documents_grouped_by_value() =>
        MatchBson(new BsonArray(MongoCommands.CountByIndex(Now).Render(Args).Documents));

    [Fact]
    public void The_indexes_created_at_start_serve_pages_counts_and_the_ttl() =>
        // Keys as the driver renders them; name and TTL copied from the CreateIndexOptions (the driver's createIndexes
        // command itself is built internally).
        MatchBson(new BsonArray(MongoCommands.Indexes().Select(index => new BsonDocument
        {
            { "key", index.Keys.Render(Args) },
            { "name", index.Options.Name },
            { "expireAfterSeconds", index.Options.ExpireAfter is { } after ? (BsonValue)(long)after.TotalSeconds : BsonNull.Value },
        })));

    [Fact]
    public void The_ttl_index_expires_a_document_at_its_expiry_exactly()
    {
        var ttl = MongoCommands.Indexes().Single(index => index.Options.Name == MongoCommands.ExpiryIndexName);

        ttl.Options.ExpireAfter.ShouldBe(TimeSpan.Zero);
        ttl.Keys.Render(Args).ShouldBe(new BsonDocument(MongoCommands.ExpiresAt, 1));
    }

    [Fact]
    public void A_stored_document_has_its_id_version_index_sort_key_and_expiry_beside_the_body() =>
        MatchBson(MongoCommands.Document("o1", new BsonDocument("customer", "ada"), 3, "open", -42, Now));

    [Fact]
    public void A_stored_document_without_an_index_value_or_expiry_holds_nulls() =>
        MatchBson(MongoCommands.Document("o1", new BsonDocument("customer", "ada"), 1, null, 0, null));

    private static void Match(FilterDefinition<BsonDocument> filter, [CallerMemberName] string caller = "") => MatchBson(filter.Render(Args), caller);

    private static void Match(PageCommand page, [CallerMemberName] string caller = "") => MatchBson(
        new BsonDocument
        {
            { "filter", page.Filter.Render(Args) },
            { "sort", page.Sort.Render(Args) },
            { "skip", page.Skip },
            { "limit", page.Limit },
        },
        caller);

    // The caller's name is the snapshot's name (each test has one), in __snapshots__/ beside this file.
    private static void MatchBson(BsonValue rendered, [CallerMemberName] string caller = "") =>
        Snapshot.Match(
            JToken.Parse(rendered.ToJson(new JsonWriterSettings { OutputMode = JsonOutputMode.CanonicalExtendedJson })),
            new SnapshotFullName($"{nameof(MongoCommandsTests)}.{caller}.snap", SourceDirectory()));

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
