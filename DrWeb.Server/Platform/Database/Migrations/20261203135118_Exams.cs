using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DrWeb.Server.Platform.Database.Migrations
{
    /// <inheritdoc />
    public partial class Exams : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "ExamId",
                table: "Cases",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Field",
                table: "Cases",
                type: "TEXT",
                maxLength: 8,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "Exams",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    CreatedUtc = table.Column<long>(type: "INTEGER", nullable: false),
                    PatientId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    ExamDate = table.Column<DateOnly>(type: "TEXT", nullable: false),
                    Site = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    Camera = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    Grading = table.Column<bool>(type: "INTEGER", nullable: false),
                    ModelRefer = table.Column<bool>(type: "INTEGER", nullable: true),
                    ModelFollowUpMonths = table.Column<int>(type: "INTEGER", nullable: true),
                    ModelAction = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    ModelReason = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    GuidelineSource = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    ModelGradeLeft = table.Column<int>(type: "INTEGER", nullable: true),
                    ModelGradeRight = table.Column<int>(type: "INTEGER", nullable: true),
                    DoctorGradeLeft = table.Column<int>(type: "INTEGER", nullable: true),
                    DoctorGradeRight = table.Column<int>(type: "INTEGER", nullable: true),
                    DoctorRefer = table.Column<bool>(type: "INTEGER", nullable: true),
                    DoctorComment = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    ConfirmedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    ConfirmedUtc = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Exams", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Cases_ExamId",
                table: "Cases",
                column: "ExamId");

            migrationBuilder.CreateIndex(
                name: "IX_Exams_ConfirmedUtc",
                table: "Exams",
                column: "ConfirmedUtc");

            migrationBuilder.CreateIndex(
                name: "IX_Exams_CreatedBy",
                table: "Exams",
                column: "CreatedBy");

            migrationBuilder.CreateIndex(
                name: "IX_Exams_CreatedUtc",
                table: "Exams",
                column: "CreatedUtc");

            migrationBuilder.CreateIndex(
                name: "IX_Exams_PatientId",
                table: "Exams",
                column: "PatientId");

            // Every photograph screened before exams existed becomes a one-photo exam with the photograph's id, patient,
            // uploader and day (CreatedUtc holds UTC ticks), so nothing is lost and old links can find their exam. Its
            // recommendation is made when the exam is first opened, by the configured guideline.
            migrationBuilder.Sql("""
                INSERT INTO "Exams" ("Id", "CreatedUtc", "PatientId", "ExamDate", "CreatedBy", "Grading")
                SELECT "Id", "CreatedUtc", "PatientId", date(("CreatedUtc" - 621355968000000000) / 10000000, 'unixepoch'), "UploadedBy", 0
                FROM "Cases" WHERE "ExamId" IS NULL;
                UPDATE "Cases" SET "ExamId" = "Id" WHERE "ExamId" IS NULL;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "Exams");

            migrationBuilder.DropIndex(
                name: "IX_Cases_ExamId",
                table: "Cases");

            migrationBuilder.DropColumn(
                name: "ExamId",
                table: "Cases");

            migrationBuilder.DropColumn(
                name: "Field",
                table: "Cases");
        }
    }
}
