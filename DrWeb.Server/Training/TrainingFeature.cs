namespace DrWeb.Server.Training;

/// <summary>Training: runs and their settings, datasets, schedules, the training job and the training API.</summary>
public static class TrainingFeature
{
    public static IServiceCollection AddTraining(this IServiceCollection services)
    {
        services.AddSingleton<TrainingCancellation>();
        services.AddSingleton<TrainingDatasets>();
        services.AddSingleton<TrainingRuns>();
        services.AddSingleton<RunInputs>();
        services.AddSingleton<TrainingRunLedger>();
        services.AddSingleton<IncumbentMeasurement>();
        services.AddSingleton<TrainedModelRegistration>();
        services.AddTransient<TrainingJob>();
        services.AddAuthorization(TrainingApi.AddTrainingApiPolicy);
        return services;
    }

    public static WebApplication MapTraining(this WebApplication app)
    {
        app.MapTrainingApi();
        return app;
    }
}
