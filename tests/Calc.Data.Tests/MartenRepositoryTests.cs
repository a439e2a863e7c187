using Calc.Data.Testing;
using Calc.Data.Tests.Fixtures;

namespace Calc.Data.Tests;

public sealed class MartenRepositoryTests(MartenStoreFixture fixture) : RepositoryComplianceTests<MartenStoreFixture>(fixture);
