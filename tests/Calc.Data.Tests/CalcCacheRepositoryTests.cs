using Calc.Data.Testing;
using Calc.Data.Tests.Fixtures;

namespace Calc.Data.Tests;

/// <summary>The Redis provider's compliance suite with Calc.Cache as the server (see <see cref="CalcCacheStoreFixture"/>).</summary>
public sealed class CalcCacheRepositoryTests(CalcCacheStoreFixture fixture) : RepositoryComplianceTests<CalcCacheStoreFixture>(fixture);
