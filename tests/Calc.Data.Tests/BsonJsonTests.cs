using System.Text.Json;
using Calc.Data.Mongo;
using Calc.Data.Testing;
using MongoDB.Bson;

namespace Calc.Data.Tests;

/// <summary>The MongoDB provider's document body: the service's JSON as BSON and back, with no server.</summary>
public sealed class BsonJsonTests
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    [Fact]
    public void A_document_round_trips_through_bson_unchanged()
    {
        var order = Order.Sample(status: OrderStatus.InTransit, rank: long.MinValue);

        var back = RoundTrip(order);

        back.ShouldBeEquivalentTo(order);
        back.PlacedAt.Offset.ShouldBe(TimeSpan.FromHours(2));
    }

    [Fact]
    public void The_body_keeps_the_services_camel_case_names_and_enum_strings()
    {
        var body = BsonJson.ToBson(JsonSerializer.SerializeToElement(Order.Sample(status: OrderStatus.InTransit), Options));

        body["status"].ShouldBe(new BsonString("inTransit"));
        body["shipTo"]["street"].ShouldBe(new BsonString("1 Analytical Row"));
        body["placedAt"].ShouldBe(new BsonString("2026-11-22T10:30:15.123+02:00"));
        body.Names.ShouldBe(["customer", "status", "rank", "placedAt", "total", "shipTo", "lines"]);
    }

    [Fact]
    public void Integers_become_int32_or_int64_and_other_numbers_decimal128()
    {
        var body = BsonJson.ToBson(JsonSerializer.SerializeToElement(new Numbers(7, long.MaxValue, 12345.67m, 0.1), Options));

        body["small"].BsonType.ShouldBe(BsonType.Int32);
        body["large"].ShouldBe(new BsonInt64(long.MaxValue));
        // A double would make 12345.67 a nearby binary fraction; the Decimal128 keeps the digits.
        body["money"].ShouldBe(new BsonDecimal128(Decimal128.Parse("12345.67")));
        body["ratio"].ShouldBe(new BsonDecimal128(Decimal128.Parse("0.1")));
    }

    [Theory]
    [InlineData("79228162514264337593543950335", 1.5)]
    [InlineData("0.0000001", double.Epsilon)]
    [InlineData("-0.0000000000000000000000000001", double.MaxValue)]
    [InlineData("100000000000000000000", 1e-7)]
    [InlineData("1.10", -1.7976931348623157E+308)]
    public void Decimals_and_doubles_at_the_edges_of_their_range_come_back_exactly(string money, double ratio)
    {
        var numbers = new Numbers(int.MinValue, long.MinValue, decimal.Parse(money, System.Globalization.CultureInfo.InvariantCulture), ratio);

        var back = RoundTrip(numbers);

        back.ShouldBe(numbers);
        back.Money.ToString(System.Globalization.CultureInfo.InvariantCulture).ShouldBe(money);
    }

    [Fact]
    public void A_guid_is_stored_as_the_string_system_text_json_writes_so_no_driver_guid_convention_applies()
    {
        var id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");

        var body = BsonJson.ToBson(JsonSerializer.SerializeToElement(new { id }, Options));

        body["id"].ShouldBe(new BsonString("0f8fad5b-d9cb-469f-a165-70867728950e"));
    }

    [Fact]
    public void A_number_with_more_digits_than_a_decimal128_holds_is_refused_rather_than_rounded()
    {
        using var json = JsonDocument.Parse("""{ "big": 12345678901234567890123456789012345 }""");

        Should.Throw<NotSupportedException>(() => BsonJson.ToBson(json.RootElement)).Message.ShouldContain("12345678901234567890123456789012345");
    }

    [Fact]
    public void A_document_that_is_not_a_json_object_is_refused()
    {
        using var json = JsonDocument.Parse("[1, 2]");

        Should.Throw<NotSupportedException>(() => BsonJson.ToBson(json.RootElement));
    }

    [Fact]
    public void A_stored_body_with_a_bson_type_the_provider_never_writes_fails_naming_where()
    {
        var body = new BsonDocument { { "lines", new BsonArray { new BsonDocument("at", new BsonDateTime(0)) } } };

        Should.Throw<InvalidDataException>(() => BsonJson.ToJson(body)).Message.ShouldContain("body.lines[0].at");
    }

    [Fact]
    public void Nulls_booleans_nested_arrays_and_unicode_come_back_as_written()
    {
        const string json = """{"a":null,"b":true,"c":false,"d":[[1,"x"],[]],"e":{},"f":"zoë \u2603 \ud83d\ude00 \"q\""}""";
        using var parsed = JsonDocument.Parse(json);

        var back = BsonJson.ToJson(BsonJson.ToBson(parsed.RootElement));

        using var written = JsonDocument.Parse(back);
        JsonElement.DeepEquals(written.RootElement, parsed.RootElement).ShouldBeTrue();
        JsonSerializer.Deserialize<JsonElement>(back).GetProperty("f").GetString().ShouldBe("zoë \u2603 \ud83d\ude00 \"q\"");
    }

    private static T RoundTrip<T>(T document) =>
        JsonSerializer.Deserialize<T>(BsonJson.ToJson(BsonJson.ToBson(JsonSerializer.SerializeToElement(document, Options))), Options)!;

    private sealed record Numbers(int Small, long Large, decimal Money, double Ratio);
}
