using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DrWeb.Server.Platform.Database.Migrations
{
    /// <inheritdoc />
    public partial class OperatingPoints : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<double>(
                name: "ReferralThreshold",
                table: "Predictions",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "OperatingPointJson",
                table: "ModelVersions",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "ReferralThreshold",
                table: "ModelEvaluations",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "Referred",
                table: "EvaluationCases",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "OperatingPointChanges",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ModelVersionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ChangedBy = table.Column<string>(type: "TEXT", nullable: false),
                    ChangedUtc = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    PreviousThreshold = table.Column<double>(type: "REAL", nullable: true),
                    Threshold = table.Column<double>(type: "REAL", nullable: false),
                    Basis = table.Column<string>(type: "TEXT", nullable: false),
                    ValidationSensitivity = table.Column<double>(type: "REAL", nullable: false),
                    ValidationSpecificity = table.Column<double>(type: "REAL", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_OperatingPointChanges", x => x.Id);
                    table.ForeignKey(
                        name: "FK_OperatingPointChanges_ModelVersions_ModelVersionId",
                        column: x => x.ModelVersionId,
                        principalTable: "ModelVersions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_OperatingPointChanges_ModelVersionId",
                table: "OperatingPointChanges",
                column: "ModelVersionId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "OperatingPointChanges");

            migrationBuilder.DropColumn(
                name: "ReferralThreshold",
                table: "Predictions");

            migrationBuilder.DropColumn(
                name: "OperatingPointJson",
                table: "ModelVersions");

            migrationBuilder.DropColumn(
                name: "ReferralThreshold",
                table: "ModelEvaluations");

            migrationBuilder.DropColumn(
                name: "Referred",
                table: "EvaluationCases");
        }
    }
}
