"""thelook eCommerce data: reference catalogue, generator and loader."""
