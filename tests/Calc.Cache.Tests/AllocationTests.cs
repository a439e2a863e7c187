using System.Buffers;
using System.Text;
using Calc.Cache.Commands;
using Calc.Cache.Protocol;
using Calc.Cache.Server;

namespace Calc.Cache.Tests;

/// <summary>Allocation budget of the hot path: parsing and running GET, and SET over a same-size value, allocate nothing.</summary>
public class AllocationTests
{
    [Fact]
    public void Get_and_same_size_set_allocate_nothing_once_warm()
    {
        var context = new ServerContext(new CacheServerOptions());
        var sink = new ArrayBufferWriter<byte>(4096);
        var session = new RespSession(context, new RespWriter(sink), "test", "test");
        var request = new RespRequest();
        var limits = new RespLimits();
        byte[][] frames =
        [
            Encoding.ASCII.GetBytes("*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$5\r\nvalue\r\n"),
            Encoding.ASCII.GetBytes("*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n"),
            Encoding.ASCII.GetBytes("GET key:1\r\n"),
            Encoding.ASCII.GetBytes("*1\r\n$4\r\nPING\r\n"),
        ];
        var failures = 0;

        void RunAll()
        {
            foreach (var frame in frames)
            {
                var buffer = new ReadOnlySequence<byte>(frame);
                if (RespParser.TryParse(ref buffer, request, limits, out _) != RespParseStatus.Complete)
                {
                    failures++;
                }

                session.Execute(request);
                sink.ResetWrittenCount();
            }
        }

        for (var i = 0; i < 200; i++)
        {
            RunAll();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            RunAll();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        failures.ShouldBe(0);
        allocated.ShouldBe(0);
    }
}
