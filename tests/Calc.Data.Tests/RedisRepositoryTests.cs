using Calc.Data.Tests.Compliance;
using Calc.Data.Tests.Fixtures;

namespace Calc.Data.Tests;

public sealed class RedisRepositoryTests(RedisStoreFixture fixture) : RepositoryComplianceTests<RedisStoreFixture>(fixture);
