using System.Text;
using Calc.Gateway.FastLane;

namespace Calc.Gateway.UnitTests;

public sealed class ChunkedBodyTrackerTests
{
    private const string Body = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";

    [Fact]
    public void A_chunked_body_ends_after_its_trailer_and_the_bytes_after_it_are_not_taken()
    {
        var tracker = default(ChunkedBodyTracker);
        var taken = tracker.Advance(Encoding.ASCII.GetBytes(Body + "HTTP/1.1 200 OK\r\n"));

        tracker.IsDone.ShouldBeTrue();
        taken.ShouldBe(Body.Length);
    }

    [Fact]
    public void A_chunked_body_fed_one_byte_at_a_time_ends_at_the_same_place()
    {
        var tracker = default(ChunkedBodyTracker);
        var bytes = Encoding.ASCII.GetBytes(Body);
        var taken = 0;
        foreach (var b in bytes)
        {
            tracker.IsDone.ShouldBeFalse();
            taken += tracker.Advance([b]);
        }

        tracker.IsDone.ShouldBeTrue();
        taken.ShouldBe(bytes.Length);
    }

    [Theory]
    [InlineData("x\r\n")]
    [InlineData("5\r\nhelloXX")]
    [InlineData("5\nhello\r\n")]
    public void A_malformed_chunked_body_is_invalid(string body)
    {
        var tracker = default(ChunkedBodyTracker);
        tracker.Advance(Encoding.ASCII.GetBytes(body));

        tracker.IsInvalid.ShouldBeTrue();
    }
}
