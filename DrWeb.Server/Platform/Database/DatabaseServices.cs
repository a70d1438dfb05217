using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Platform.Database;

public static class DatabaseServices
{
    /// <summary>The context factory for the configured provider, and the image store it implies.</summary>
    public static IServiceCollection AddDrWebDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddDbContextFactory<DrWebDbContext, DrWebDbContextFactory>((sp, db) =>
        {
            var options = sp.GetRequiredService<IOptions<DrWebOptions>>().Value.Database;
            DrWebDatabase.Use(db, options.Provider, DrWebDatabase.ConnectionString(configuration, options, sp.GetRequiredService<DataFolder>()));
        }, ServiceLifetime.Singleton);
        services.AddSingleton<IImageStore>(sp =>
            sp.GetRequiredService<IOptions<DrWebOptions>>().Value.Database.ImageStore == ImageStoreKind.Database
                ? new DatabaseImageStore(sp.GetRequiredService<IDbContextFactory<DrWebDbContext>>())
                : new FolderImageStore(sp.GetRequiredService<DataFolder>()));
        return services;
    }
}
