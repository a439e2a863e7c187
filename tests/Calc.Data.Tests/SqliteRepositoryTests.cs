using Calc.Data.Testing;
using Calc.Data.Tests.Fixtures;

namespace Calc.Data.Tests;

public sealed class SqliteRepositoryTests(SqliteStoreFixture fixture) : RepositoryComplianceTests<SqliteStoreFixture>(fixture);
