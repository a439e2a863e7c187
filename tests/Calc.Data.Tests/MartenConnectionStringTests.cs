using Calc.Data.Marten;
using Npgsql;

namespace Calc.Data.Tests;

public sealed class MartenConnectionStringTests
{
    [Fact]
    public void A_connection_string_without_the_pool_keys_gets_no_reset_on_close_and_auto_preparation()
    {
        var tuned = new NpgsqlConnectionStringBuilder(MartenDocumentStore.Tuned("Host=127.0.0.1;Username=calc;Database=calc"));

        tuned.NoResetOnClose.ShouldBeTrue();
        tuned.MaxAutoPrepare.ShouldBe(MartenDocumentStore.DefaultMaxAutoPrepare);
        tuned.AutoPrepareMinUsages.ShouldBe(MartenDocumentStore.DefaultAutoPrepareMinUsages);
        tuned.Host.ShouldBe("127.0.0.1");
        tuned.Database.ShouldBe("calc");
    }

    [Theory]
    [InlineData("Host=h;No Reset On Close=false;Max Auto Prepare=0;Auto Prepare Min Usages=5")]
    [InlineData("Host=h;noresetonclose=false;MAXAUTOPREPARE=0;autoprepareminusages=5")]
    public void Pool_keys_given_in_the_connection_string_win_over_the_store_defaults(string connectionString)
    {
        var tuned = new NpgsqlConnectionStringBuilder(MartenDocumentStore.Tuned(connectionString));

        tuned.NoResetOnClose.ShouldBeFalse();
        tuned.MaxAutoPrepare.ShouldBe(0);
        tuned.AutoPrepareMinUsages.ShouldBe(5);
    }
}
