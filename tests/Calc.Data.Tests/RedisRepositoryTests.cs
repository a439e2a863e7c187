using Calc.Data.Testing;
using Calc.Data.Tests.Fixtures;

namespace Calc.Data.Tests;

public sealed class RedisRepositoryTests(RedisStoreFixture fixture) : RepositoryComplianceTests<RedisStoreFixture>(fixture);
