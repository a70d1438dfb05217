namespace DrWeb.Server.Registry;

/// <summary>The model registry: versions, the one active model, imports, the operating point, the Models page.</summary>
public static class RegistryFeature
{
    public static IServiceCollection AddRegistry(this IServiceCollection services)
    {
        services.AddSingleton<StarterModel>();
        services.AddSingleton<ActiveModel>();
        services.AddSingleton<ModelRegistry>();
        services.AddSingleton<ModelImports>();
        services.AddSingleton<OperatingPoints>();
        return services;
    }
}
