using Calc.Data.Testing;
using Calc.Data.Tests.Fixtures;

namespace Calc.Data.Tests;

/// <summary>
/// The compliance suite on a real MongoDB server, when <c>CALC_TEST_MONGO</c> names one. The trait lets the build
/// leave the class out where there is none (<c>--filter "Requires!=mongo"</c>): it is then neither passed nor skipped.
/// </summary>
[Trait("Requires", "mongo")]
public sealed class MongoRepositoryTests(MongoStoreFixture fixture) : RepositoryComplianceTests<MongoStoreFixture>(fixture);
