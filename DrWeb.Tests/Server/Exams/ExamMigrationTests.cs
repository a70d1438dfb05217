using DrWeb.Server.Exams;
using DrWeb.Server.Platform.Database;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace DrWeb.Tests.Server.Exams;

/// <summary>Screenings stored before exams existed become one-photo exams, with their case, prediction and images untouched.</summary>
public class ExamMigrationTests
{
    [Theory, SqliteData, PostgresData]
    public async Task A_stored_single_photo_screening_becomes_a_one_photo_exam(DatabaseProvider provider)
    {
        using var folder = SharedData.TempFolder();
        using var postgres = provider == DatabaseProvider.Postgres ? TestPostgres.CreateDatabase() : null;
        string connection = postgres?.ConnectionString ?? $"Data Source={Path.Combine(folder.Path, "drweb.db")}";
        var factory = DrWebDatabase.Factory(provider, connection);
        var caseId = Guid.NewGuid();
        var predictionId = Guid.NewGuid();
        // 2026-12-01 10:00 UTC, as the UTC ticks DrWeb stores.
        long created = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero).UtcTicks;

        await using (var db = await factory.CreateDbContextAsync())
        {
            var migrations = db.Database.GetMigrations().ToList();
            string beforeExams = migrations[migrations.FindIndex(m => m.EndsWith("_Exams", StringComparison.Ordinal)) - 1];
            await db.GetService<IMigrator>().MigrateAsync(beforeExams);
            string t = provider == DatabaseProvider.Sqlite ? "1" : "TRUE", f = provider == DatabaseProvider.Sqlite ? "0" : "FALSE";
            // The provider's own Guid text form, as EF Core would have written it.
            string Id(Guid g) => provider == DatabaseProvider.Sqlite ? g.ToString().ToUpperInvariant() : g.ToString();
            string legacyRows = $"""
                INSERT INTO "Cases" ("Id", "CreatedUtc", "DoctorGrade", "Eye", "FileName", "Format", "Height", "ImageHash", "PatientId",
                    "QualityOverridden", "QualityReasons", "QualityVerdict", "UploadedBy", "Width")
                VALUES ('{Id(caseId)}', {created}, 2, 'left', '10030_left.jpeg', 'JPEG', 256, '{new string('a', 64)}', 'OLD-7', {f}, NULL, 'Good',
                    'doctor@drweb.test', 256);
                INSERT INTO "Predictions" ("Id", "CamLayer", "CamMethod", "CamTarget", "CaseId", "CreatedUtc", "DurationMs", "Grade",
                    "HeatmapOnModelView", "ModelVersion", "ModelViewHash", "ModelViewNote", "OverlayHash", "P0", "P1", "P2", "P3", "P4",
                    "Referable", "ReferableProbability", "ReferableRule", "ReferralThreshold")
                VALUES ('{Id(predictionId)}', 'layer4', 'gradcam', 'predicted', '{Id(caseId)}', {created}, 812.5, 2, {t}, 'starter', NULL, NULL,
                    '{new string('b', 64)}', 0.1, 0.2, 0.4, 0.2, 0.1, {t}, 0.7, 'P(referable) 0.70 >= 0.31', 0.31);
                """;
            await db.Database.ExecuteSqlRawAsync(legacyRows);
            await db.Database.MigrateAsync();
        }

        await using (var db = await factory.CreateDbContextAsync())
        {
            var exam = await db.Exams.Include(e => e.Photographs).ThenInclude(c => c.Predictions).SingleAsync();
            Assert.Equal(caseId, exam.Id);
            Assert.Equal("OLD-7", exam.PatientId);
            Assert.Equal("doctor@drweb.test", exam.CreatedBy);
            Assert.Equal(new DateOnly(2026, 12, 1), exam.ExamDate);
            Assert.Equal(created, exam.CreatedUtc.UtcTicks);
            Assert.Null(exam.ModelRefer);
            var photo = Assert.Single(exam.Photographs);
            Assert.Equal(caseId, photo.Id);
            Assert.Equal(("left", 2, "Good", new string('a', 64)), (photo.Eye, photo.DoctorGrade, photo.QualityVerdict, photo.ImageHash));
            var prediction = Assert.Single(photo.Predictions);
            Assert.Equal((predictionId, 2, true, 0.7f, 0.31, new string('b', 64)),
                (prediction.Id, prediction.Grade, prediction.Referable, prediction.ReferableProbability, prediction.ReferralThreshold!.Value, prediction.OverlayHash));

            // Its eye result is the stored prediction; the right eye was never photographed, so the patient is referred.
            var (left, right) = ExamService.Eyes(exam);
            Assert.Equal(EyeResult.Graded(2, 0.7f, true), left);
            Assert.Equal(EyeResult.NotImaged, right);
        }
    }
}
