using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DrWeb.Server.Platform.Database.Migrations
{
    /// <inheritdoc />
    public partial class ModelView : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "HeatmapOnModelView",
                table: "Predictions",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "ModelViewHash",
                table: "Predictions",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ModelViewNote",
                table: "Predictions",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "HeatmapOnModelView",
                table: "EvaluationCases",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "ModelViewHash",
                table: "EvaluationCases",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ModelViewNote",
                table: "EvaluationCases",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "QualityReasons",
                table: "EvaluationCases",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "QualityVerdict",
                table: "EvaluationCases",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "HeatmapOnModelView",
                table: "Predictions");

            migrationBuilder.DropColumn(
                name: "ModelViewHash",
                table: "Predictions");

            migrationBuilder.DropColumn(
                name: "ModelViewNote",
                table: "Predictions");

            migrationBuilder.DropColumn(
                name: "HeatmapOnModelView",
                table: "EvaluationCases");

            migrationBuilder.DropColumn(
                name: "ModelViewHash",
                table: "EvaluationCases");

            migrationBuilder.DropColumn(
                name: "ModelViewNote",
                table: "EvaluationCases");

            migrationBuilder.DropColumn(
                name: "QualityReasons",
                table: "EvaluationCases");

            migrationBuilder.DropColumn(
                name: "QualityVerdict",
                table: "EvaluationCases");
        }
    }
}
