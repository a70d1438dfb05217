using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace DrWeb.Server.Platform.Database;

/// <summary>Lets <c>dotnet ef migrations add</c> build the context without starting the app.</summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<DrWebDbContext>
{
    public DrWebDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<DrWebDbContext>().UseSqlite("Data Source=design-time.db").Options);
}
