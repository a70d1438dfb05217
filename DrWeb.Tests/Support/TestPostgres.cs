using System.Reflection;
using DrWeb.Server.Platform.Database;
using Npgsql;
using Xunit.Sdk;

namespace DrWeb.Tests.Support;

/// <summary>
/// The throwaway PostgreSQL cluster that scripts/test.sh starts (DRWEB_TEST_POSTGRES). Each test gets a database of its
/// own, dropped afterwards. Where no cluster could be started the PostgreSQL tests are skipped with the reason.
/// </summary>
public static class TestPostgres
{
    public static string? MaintenanceConnection => Environment.GetEnvironmentVariable("DRWEB_TEST_POSTGRES") is { Length: > 0 } c ? c : null;

    public static string? Unavailable => MaintenanceConnection is not null ? null
        : Environment.GetEnvironmentVariable("DRWEB_POSTGRES_UNAVAILABLE") is { Length: > 0 } reason ? reason
        : "No test PostgreSQL: run the tests through scripts/test.sh, which starts one (or set DRWEB_TEST_POSTGRES to a connection string).";

    /// <summary>A new, empty database; dropping it (even with sessions still open) is the returned object's job.</summary>
    public static TestDatabase CreateDatabase()
    {
        string maintenance = MaintenanceConnection ?? throw new InvalidOperationException(Unavailable);
        string name = "drweb_t_" + Guid.NewGuid().ToString("N")[..16];
        using (var connection = new NpgsqlConnection(maintenance))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            command.ExecuteNonQuery();
        }
        var builder = new NpgsqlConnectionStringBuilder(maintenance) { Database = name };
        return new TestDatabase(maintenance, name, builder.ConnectionString);
    }
}

public sealed class TestDatabase(string maintenance, string name, string connectionString) : IDisposable
{
    public string Name => name;

    public string ConnectionString => connectionString;

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        using var connection = new NpgsqlConnection(maintenance);
        connection.Open();
        using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        command.ExecuteNonQuery();
    }
}

/// <summary>A theory row that runs the test on SQLite.</summary>
public sealed class SqliteDataAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[DatabaseProvider.Sqlite]];
}

/// <summary>
/// A theory row that runs the test on PostgreSQL (followed by <paramref name="more"/> arguments), skipped with the
/// reason where there is none.
/// </summary>
public sealed class PostgresDataAttribute(params object[] more) : DataAttribute
{
    public override string? Skip { get => TestPostgres.Unavailable; set { } }

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[DatabaseProvider.Postgres, .. more]];
}

/// <summary>A test that needs PostgreSQL; skipped with the reason where there is none.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (TestPostgres.Unavailable is { } reason) Skip = reason;
    }
}
