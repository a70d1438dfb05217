using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DrWeb.Server.Platform.Database.Migrations
{
    /// <inheritdoc />
    public partial class CamMethods : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "CamMethod",
                table: "Predictions",
                type: "TEXT",
                nullable: false,
                defaultValue: "gradcam");

            migrationBuilder.AddColumn<string>(
                name: "CamTarget",
                table: "Predictions",
                type: "TEXT",
                nullable: false,
                defaultValue: "predicted");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "CamMethod",
                table: "Predictions");

            migrationBuilder.DropColumn(
                name: "CamTarget",
                table: "Predictions");
        }
    }
}
