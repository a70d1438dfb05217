using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DrWeb.Server.Platform.Database.PostgresMigrations
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
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Field",
                table: "Cases",
                type: "character varying(8)",
                maxLength: 8,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "Exams",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    CreatedUtc = table.Column<long>(type: "bigint", nullable: false),
                    PatientId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    ExamDate = table.Column<DateOnly>(type: "date", nullable: false),
                    Site = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Camera = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    CreatedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    Grading = table.Column<bool>(type: "boolean", nullable: false),
                    ModelRefer = table.Column<bool>(type: "boolean", nullable: true),
                    ModelFollowUpMonths = table.Column<int>(type: "integer", nullable: true),
                    ModelAction = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    ModelReason = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    GuidelineSource = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    ModelGradeLeft = table.Column<int>(type: "integer", nullable: true),
                    ModelGradeRight = table.Column<int>(type: "integer", nullable: true),
                    DoctorGradeLeft = table.Column<int>(type: "integer", nullable: true),
                    DoctorGradeRight = table.Column<int>(type: "integer", nullable: true),
                    DoctorRefer = table.Column<bool>(type: "boolean", nullable: true),
                    DoctorComment = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    ConfirmedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    ConfirmedUtc = table.Column<long>(type: "bigint", nullable: true)
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
                SELECT "Id", "CreatedUtc", "PatientId", (to_timestamp(("CreatedUtc" - 621355968000000000) / 10000000) AT TIME ZONE 'UTC')::date, "UploadedBy", FALSE
                FROM "Cases" WHERE "ExamId" IS NULL;
                UPDATE "Cases" SET "ExamId" = "Id" WHERE "ExamId" IS NULL;
                """);

            migrationBuilder.AddForeignKey(
                name: "FK_Cases_Exams_ExamId",
                table: "Cases",
                column: "ExamId",
                principalTable: "Exams",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Cases_Exams_ExamId",
                table: "Cases");

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
