using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DrWeb.Server.Data.Migrations
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ReferralThreshold",
                table: "Predictions");

            migrationBuilder.DropColumn(
                name: "ReferralThreshold",
                table: "ModelEvaluations");

            migrationBuilder.DropColumn(
                name: "Referred",
                table: "EvaluationCases");
        }
    }
}
