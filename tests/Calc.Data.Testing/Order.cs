namespace Calc.Data.Testing;

/// <summary>The document the compliance suite stores: nested objects, a list, an enum, a date with an offset, a decimal.</summary>
public sealed record Order(string Customer, OrderStatus Status, long Rank, DateTimeOffset PlacedAt, decimal Total, Address ShipTo, IReadOnlyList<OrderLine> Lines)
{
    public static Order Sample(string customer = "ada", OrderStatus status = OrderStatus.Open, long rank = 0) => new(
        customer,
        status,
        rank,
        new DateTimeOffset(2026, 11, 22, 10, 30, 15, 123, TimeSpan.FromHours(2)),
        12345.67m,
        new Address("1 Analytical Row", "London"),
        // A List, as System.Text.Json materializes an IReadOnlyList, so that equivalence checks compare like with like.
        new List<OrderLine> { new("engine", 1, OrderStatus.InTransit), new("punch cards", 500, OrderStatus.Open) });
}

public sealed record Address(string Street, string City);

public sealed record OrderLine(string Item, int Quantity, OrderStatus Status);

public enum OrderStatus
{
    Open,
    InTransit,
    Delivered,
}
