using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Platform.Database;

/// <summary>Where the app's rows live: the embedded SQLite file (the default) or a PostgreSQL server shared by several nodes.</summary>
public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Where uploaded and derived images live.</summary>
public enum ImageStoreKind
{
    /// <summary><c>images/</c> in the data folder: one node, or several sharing the mount.</summary>
    Folder,

    /// <summary>The <c>StoredImages</c> table: nodes need nothing but the database.</summary>
    Database,
}

/// <summary>Settings under <c>DrWeb:Database</c>; the connection string is <c>ConnectionStrings:DrWeb</c>.</summary>
public sealed class DatabaseOptions
{
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    public ImageStoreKind ImageStore { get; set; } = ImageStoreKind.Folder;

    /// <summary>Apply pending migrations when the app starts (EF Core takes a database-wide lock, so nodes starting together are safe).</summary>
    public bool MigrateAtStartup { get; set; } = true;
}

/// <summary>Builds the database connection for the web app and the command-line verbs alike.</summary>
public static class DrWebDatabase
{
    public const string ConnectionStringName = "DrWeb";

    /// <summary><c>ConnectionStrings:DrWeb</c>, or for SQLite the file in the data folder when none is given.</summary>
    public static string ConnectionString(IConfiguration configuration, DatabaseOptions options, DataFolder data)
    {
        string? configured = configuration.GetConnectionString(ConnectionStringName);
        if (!string.IsNullOrWhiteSpace(configured)) return configured;
        if (options.Provider == DatabaseProvider.Sqlite) return $"Data Source={data.DatabasePath}";
        throw new InvalidOperationException(
            "DrWeb:Database:Provider is 'postgres' but ConnectionStrings:DrWeb is empty. Set it, for example " +
            "ConnectionStrings__DrWeb='Host=db.example;Database=drweb;Username=drweb;Password=...'.");
    }

    public static DbContextOptionsBuilder Use(DbContextOptionsBuilder builder, DatabaseProvider provider, string connectionString) =>
        provider switch
        {
            DatabaseProvider.Postgres => builder.UseNpgsql(connectionString),
            _ => builder.UseSqlite(connectionString),
        };

    /// <summary>A context factory outside dependency injection (command-line verbs).</summary>
    public static IDbContextFactory<DrWebDbContext> Factory(DatabaseProvider provider, string connectionString)
    {
        var options = (DbContextOptions<DrWebDbContext>)Use(new DbContextOptionsBuilder<DrWebDbContext>(), provider, connectionString).Options;
        return new DrWebDbContextFactory(options, provider);
    }

    /// <summary>Applies the provider's migrations; on SQLite also switches to WAL so screening and background work do not block each other.</summary>
    public static void Migrate(DrWebDbContext db)
    {
        db.Database.Migrate();
        if (db.Database.IsSqlite())
            db.Database.ExecuteSqlRaw("PRAGMA journal_mode=WAL;");
    }
}

/// <summary>Makes the context type that carries the provider's migrations.</summary>
public sealed class DrWebDbContextFactory(DbContextOptions<DrWebDbContext> options, DatabaseProvider provider) : IDbContextFactory<DrWebDbContext>
{
    public DrWebDbContextFactory(DbContextOptions<DrWebDbContext> options, IOptions<DrWebOptions> drweb)
        : this(options, drweb.Value.Database.Provider)
    {
    }

    public DatabaseProvider Provider => provider;

    public DrWebDbContext CreateDbContext() =>
        provider == DatabaseProvider.Postgres ? new PostgresDrWebDbContext(options) : new DrWebDbContext(options);
}
