using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace DrWeb.Server.Platform.Database;

/// <summary>Lets <c>dotnet ef migrations add</c> build the SQLite context without starting the app.</summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<DrWebDbContext>
{
    public DrWebDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<DrWebDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

/// <summary>
/// The same for PostgreSQL (<c>dotnet ef migrations add X --context PostgresDrWebDbContext</c>); no server is needed to
/// generate a migration.
/// </summary>
public sealed class PostgresDesignTimeDbContextFactory : IDesignTimeDbContextFactory<PostgresDrWebDbContext>
{
    public PostgresDrWebDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<DrWebDbContext>().UseNpgsql("Host=localhost;Database=drweb_design_time").Options);
}
