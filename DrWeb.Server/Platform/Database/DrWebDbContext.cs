using DrWeb.Server.Accounts;
using DrWeb.Server.Screening;
using DrWeb.Server.Teaching;
using DrWeb.Server.Training;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace DrWeb.Server.Platform.Database;

/// <summary>
/// The app's one database: Identity's tables, the screening history, the data-protection keys every node shares, and
/// (with the database image store) the images. SQLite uses this type; PostgreSQL uses <see cref="PostgresDrWebDbContext"/>,
/// the same model with its own migrations.
/// </summary>
public class DrWebDbContext(DbContextOptions<DrWebDbContext> options) : IdentityDbContext<DrWebUser>(options), IDataProtectionKeyContext
{
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<StoredImage> StoredImages => Set<StoredImage>();
    public DbSet<Exam> Exams => Set<Exam>();
    public DbSet<Case> Cases => Set<Case>();
    public DbSet<Prediction> Predictions => Set<Prediction>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<ModelVersion> ModelVersions => Set<ModelVersion>();
    public DbSet<OperatingPointChange> OperatingPointChanges => Set<OperatingPointChange>();
    public DbSet<BaseCheckpoint> BaseCheckpoints => Set<BaseCheckpoint>();
    public DbSet<TrainingDataset> TrainingDatasets => Set<TrainingDataset>();
    public DbSet<TrainingRun> TrainingRuns => Set<TrainingRun>();
    public DbSet<TrainingStepLoss> TrainingSteps => Set<TrainingStepLoss>();
    public DbSet<TrainingEpochMetrics> TrainingEpochs => Set<TrainingEpochMetrics>();
    public DbSet<TrainingSchedule> TrainingSchedules => Set<TrainingSchedule>();
    public DbSet<ModelEvaluation> ModelEvaluations => Set<ModelEvaluation>();
    public DbSet<EvaluationCase> EvaluationCases => Set<EvaluationCase>();
    public DbSet<CaseNote> CaseNotes => Set<CaseNote>();
    public DbSet<Lesson> Lessons => Set<Lesson>();
    public DbSet<LessonItem> LessonItems => Set<LessonItem>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<IdempotentRequest> IdempotentRequests => Set<IdempotentRequest>();
    public DbSet<ExplanationStudyRun> ExplanationStudies => Set<ExplanationStudyRun>();

    /// <summary>
    /// SQLite cannot compare or order DateTimeOffset values, so DrWeb's own timestamps are stored as UTC ticks.
    /// (Not a convention: that would also change Identity's LockoutEnd column.)
    /// </summary>
    private static readonly ValueConverter<DateTimeOffset, long> UtcTicks = new(v => v.UtcTicks, v => new DateTimeOffset(v, TimeSpan.Zero));

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.Entity<Case>(c =>
        {
            c.HasIndex(x => x.ImageHash);
            c.HasIndex(x => x.CreatedUtc);
            c.HasIndex(x => x.PatientId);
            c.HasIndex(x => x.UploadedBy);
            c.Property(x => x.UploadedBy).HasMaxLength(256);
            c.Property(x => x.ImageHash).HasMaxLength(64);
            c.Property(x => x.FileName).HasMaxLength(255);
            c.Property(x => x.Format).HasMaxLength(16);
            c.Property(x => x.PatientId).HasMaxLength(64);
            c.Property(x => x.Eye).HasMaxLength(8);
            c.Property(x => x.QualityVerdict).HasMaxLength(16);
            c.Property(x => x.QualityReasons).HasMaxLength(2000);
            c.Property(x => x.CreatedUtc).HasConversion(UtcTicks);
            c.Property(x => x.Field).HasMaxLength(8);
            c.Ignore(x => x.Gradable);
            c.HasOne(x => x.Exam).WithMany(e => e.Photographs).HasForeignKey(x => x.ExamId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<Exam>(e =>
        {
            e.HasIndex(x => x.CreatedUtc);
            e.HasIndex(x => x.PatientId);
            e.HasIndex(x => x.CreatedBy);
            e.HasIndex(x => x.ConfirmedUtc);
            e.Property(x => x.PatientId).HasMaxLength(64);
            e.Property(x => x.Site).HasMaxLength(100);
            e.Property(x => x.Camera).HasMaxLength(100);
            e.Property(x => x.CreatedBy).HasMaxLength(256);
            e.Property(x => x.ConfirmedBy).HasMaxLength(256);
            e.Property(x => x.ModelAction).HasMaxLength(500);
            e.Property(x => x.ModelReason).HasMaxLength(1000);
            e.Property(x => x.GuidelineSource).HasMaxLength(500);
            e.Property(x => x.DoctorComment).HasMaxLength(2000);
            e.Ignore(x => x.Status);
            e.Ignore(x => x.Refer);
            e.Property(x => x.CreatedUtc).HasConversion(UtcTicks);
            e.Property(x => x.ConfirmedUtc).HasConversion(UtcTicks);
        });
        builder.Entity<Prediction>(p =>
        {
            p.HasOne(x => x.Case).WithMany(c => c.Predictions).HasForeignKey(x => x.CaseId).OnDelete(DeleteBehavior.Cascade);
            p.HasIndex(x => x.Grade);
            p.Ignore(x => x.Probabilities);
            p.Property(x => x.CreatedUtc).HasConversion(UtcTicks);
        });
        builder.Entity<ApiToken>(t =>
        {
            t.HasIndex(x => x.SecretHash).IsUnique();
            t.HasOne(x => x.User).WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
            t.Property(x => x.Name).HasMaxLength(100);
            t.Property(x => x.SecretHash).HasMaxLength(64);
            t.Property(x => x.CreatedUtc).HasConversion(UtcTicks);
            t.Property(x => x.RevokedUtc).HasConversion(UtcTicks);
            t.Property(x => x.LastUsedUtc).HasConversion(UtcTicks);
        });
        builder.Entity<ExplanationStudyRun>(r =>
        {
            r.HasIndex(x => new { x.ModelVersionId, x.CreatedUtc });
            r.Property(x => x.DatasetName).HasMaxLength(200);
            r.Property(x => x.DatasetFolder).HasMaxLength(1000);
            r.Property(x => x.Methods).HasMaxLength(200);
            r.Property(x => x.Target).HasMaxLength(16);
            r.Property(x => x.Status).HasConversion<string>().HasMaxLength(16);
            r.Property(x => x.OutputFolder).HasMaxLength(500);
            r.Property(x => x.Message).HasMaxLength(4000);
            r.Property(x => x.RequestedBy).HasMaxLength(256);
            r.Property(x => x.HangfireJobId).HasMaxLength(64);
            r.Property(x => x.CreatedUtc).HasConversion(UtcTicks);
            r.Property(x => x.StartedUtc).HasConversion(UtcTicks);
            r.Property(x => x.FinishedUtc).HasConversion(UtcTicks);
        });
        builder.Entity<ModelVersion>(m =>
        {
            m.HasIndex(x => x.Name).IsUnique();
            m.Property(x => x.Name).HasMaxLength(100);
            m.Property(x => x.Location).HasMaxLength(500);
            m.Property(x => x.Source).HasConversion<string>().HasMaxLength(16);
            m.Property(x => x.Architecture).HasMaxLength(32);
            m.Property(x => x.Head).HasMaxLength(16);
            m.Property(x => x.TrainablePolicy).HasMaxLength(64);
            m.Property(x => x.Preprocessing).HasMaxLength(64);
            m.Property(x => x.BaseWeights).HasMaxLength(200);
            m.Property(x => x.DataFingerprint).HasMaxLength(64);
            m.Property(x => x.Label).HasMaxLength(200);
            m.Property(x => x.Device).HasMaxLength(32);
            m.Ignore(x => x.DisplayName);
            m.Property(x => x.CreatedUtc).HasConversion(UtcTicks);
            m.Property(x => x.RegisteredUtc).HasConversion(UtcTicks);
            m.Property(x => x.ActivatedUtc).HasConversion(UtcTicks);
        });
        builder.Entity<BaseCheckpoint>(b =>
        {
            b.HasIndex(x => new { x.Sha256, x.Architecture }).IsUnique();
            b.Property(x => x.Architecture).HasMaxLength(32);
            b.Property(x => x.OriginalName).HasMaxLength(255);
            b.Property(x => x.Location).HasMaxLength(500);
            b.Property(x => x.Sha256).HasMaxLength(64);
            b.Property(x => x.ImportedUtc).HasConversion(UtcTicks);
        });
        builder.Entity<TrainingDataset>(d =>
        {
            d.Property(x => x.Name).HasMaxLength(100);
            d.Property(x => x.Folder).HasMaxLength(500);
            d.Property(x => x.Layout).HasMaxLength(64);
            d.Property(x => x.GradeCounts).HasMaxLength(64);
            d.Property(x => x.Fingerprint).HasMaxLength(64);
            d.Property(x => x.RegisteredUtc).HasConversion(UtcTicks);
        });
        builder.Entity<TrainingRun>(r =>
        {
            r.HasOne(x => x.Dataset).WithMany().HasForeignKey(x => x.DatasetId).OnDelete(DeleteBehavior.Restrict);
            r.HasMany(x => x.Steps).WithOne().HasForeignKey(x => x.RunId).OnDelete(DeleteBehavior.Cascade);
            r.HasMany(x => x.EpochMetrics).WithOne().HasForeignKey(x => x.RunId).OnDelete(DeleteBehavior.Cascade);
            r.HasIndex(x => x.CreatedUtc);
            r.Property(x => x.Name).HasMaxLength(100);
            r.Property(x => x.Architecture).HasMaxLength(32);
            r.Property(x => x.Status).HasConversion<string>().HasMaxLength(16);
            r.Property(x => x.Phase).HasMaxLength(200);
            r.Property(x => x.Device).HasMaxLength(64);
            r.Property(x => x.Node).HasMaxLength(128);
            r.Property(x => x.HangfireJobId).HasMaxLength(64);
            r.Property(x => x.Error).HasMaxLength(2000);
            r.Property(x => x.ErrorReference).HasMaxLength(16);
            r.Property(x => x.CreatedUtc).HasConversion(UtcTicks);
            r.Property(x => x.ScheduledForUtc).HasConversion(UtcTicks);
            r.Property(x => x.StartedUtc).HasConversion(UtcTicks);
            r.Property(x => x.FinishedUtc).HasConversion(UtcTicks);
            r.Property(x => x.HeartbeatUtc).HasConversion(UtcTicks);
        });
        builder.Entity<TrainingStepLoss>(s => s.HasIndex(x => new { x.RunId, x.GlobalStep }));
        builder.Entity<TrainingEpochMetrics>(e => e.HasIndex(x => new { x.RunId, x.Epoch }).IsUnique());
        builder.Entity<TrainingSchedule>(s =>
        {
            s.Property(x => x.Name).HasMaxLength(100);
            s.Property(x => x.Cron).HasMaxLength(100);
            s.Ignore(x => x.RecurringJobId);
            s.Property(x => x.CreatedUtc).HasConversion(UtcTicks);
        });
        builder.Entity<ModelEvaluation>(e =>
        {
            e.HasOne(x => x.ModelVersion).WithMany().HasForeignKey(x => x.ModelVersionId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(x => x.Cases).WithOne(c => c.Evaluation).HasForeignKey(c => c.EvaluationId).OnDelete(DeleteBehavior.Cascade);
            e.Property(x => x.Name).HasMaxLength(200);
            e.Property(x => x.DataFingerprint).HasMaxLength(64);
            e.Property(x => x.CreatedUtc).HasConversion(UtcTicks);
        });
        builder.Entity<EvaluationCase>(c =>
        {
            c.HasIndex(x => new { x.EvaluationId, x.TrueGrade, x.PredictedGrade });
            c.Property(x => x.ImageId).HasMaxLength(200);
            c.Property(x => x.ImageHash).HasMaxLength(64);
            c.Property(x => x.PatientId).HasMaxLength(64);
            c.Property(x => x.Eye).HasMaxLength(8);
            c.Property(x => x.HeatmapPredictedHash).HasMaxLength(64);
            c.Property(x => x.HeatmapTrueHash).HasMaxLength(64);
            c.Property(x => x.CamLayer).HasMaxLength(100);
            c.Ignore(x => x.Probabilities);
            c.Ignore(x => x.Correct);
        });
        builder.Entity<CaseNote>(n =>
        {
            n.HasOne<EvaluationCase>().WithMany().HasForeignKey(x => x.EvaluationCaseId).OnDelete(DeleteBehavior.Cascade);
            n.Property(x => x.Author).HasMaxLength(256);
            n.Property(x => x.Text).HasMaxLength(4000);
            n.Property(x => x.CreatedUtc).HasConversion(UtcTicks);
        });
        builder.Entity<Lesson>(l =>
        {
            l.HasMany(x => x.Items).WithOne().HasForeignKey(x => x.LessonId).OnDelete(DeleteBehavior.Cascade);
            l.Property(x => x.Title).HasMaxLength(200);
            l.Property(x => x.Notes).HasMaxLength(4000);
            l.Property(x => x.Owner).HasMaxLength(256);
            l.Property(x => x.CreatedUtc).HasConversion(UtcTicks);
        });
        builder.Entity<LessonItem>(i =>
        {
            i.HasOne(x => x.Case).WithMany().HasForeignKey(x => x.EvaluationCaseId).IsRequired(false).OnDelete(DeleteBehavior.Cascade);
            i.Property(x => x.AtlasCaseId).HasMaxLength(200);
            i.HasIndex(x => new { x.LessonId, x.Position });
            i.Property(x => x.Notes).HasMaxLength(2000);
        });
        builder.Entity<AuditEntry>(a =>
        {
            a.HasIndex(x => x.TimeUtc);
            a.HasIndex(x => new { x.Action, x.TimeUtc });
            a.Property(x => x.Action).HasMaxLength(32);
            a.Property(x => x.Actor).HasMaxLength(256);
            a.Property(x => x.Subject).HasMaxLength(256);
            a.Property(x => x.Detail).HasMaxLength(1000);
            a.Property(x => x.Address).HasMaxLength(64);
            a.Property(x => x.TimeUtc).HasConversion(UtcTicks);
        });
        builder.Entity<StoredImage>(i =>
        {
            i.HasKey(x => x.Sha256);
            i.Property(x => x.Sha256).HasMaxLength(64);
            i.Property(x => x.StoredUtc).HasConversion(UtcTicks);
        });
        builder.Entity<IdempotentRequest>(r =>
        {
            r.HasIndex(x => new { x.UserName, x.Key }).IsUnique();
            r.HasIndex(x => x.CreatedUtc);
            r.Property(x => x.UserName).HasMaxLength(256);
            r.Property(x => x.Key).HasMaxLength(128);
            r.Property(x => x.RequestHash).HasMaxLength(64);
            r.Property(x => x.CreatedUtc).HasConversion(UtcTicks);
        });
    }
}

/// <summary>
/// The PostgreSQL face of <see cref="DrWebDbContext"/>: the same tables, migrations generated for Npgsql. EF Core finds
/// migrations by the context's exact type, so each provider keeps its own set.
/// </summary>
public sealed class PostgresDrWebDbContext(DbContextOptions<DrWebDbContext> options) : DrWebDbContext(options);
