namespace DrWeb.Server.Teaching;

/// <summary>Teaching: the gallery of validation cases, the lesion atlas, lessons, presentation and export.</summary>
public static class TeachingFeature
{
    public static IServiceCollection AddTeaching(this IServiceCollection services)
    {
        services.AddSingleton<GalleryQueries>();
        services.AddSingleton<Lessons>();
        services.AddSingleton<LessonExport>();
        services.AddSingleton<TeachingHeatmaps>();
        return services;
    }

    public static WebApplication MapTeaching(this WebApplication app)
    {
        app.MapGalleryEndpoints();
        return app;
    }
}
