"""Serializers of customers and projects: no credential, only whether one is set."""

from rest_framework import serializers

from customers.models import Customer, Project


class CustomerSerializer(serializers.ModelSerializer):
    has_credentials = serializers.BooleanField(read_only=True)

    class Meta:
        model = Customer
        fields = ("id", "name", "tenant_url", "has_credentials", "credentials_changed_at", "created_at")


class ProjectSerializer(serializers.ModelSerializer):
    customer_id = serializers.IntegerField(read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    last_sync_status = serializers.CharField(read_only=True, allow_null=True)
    last_sync_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Project
        fields = (
            "id",
            "name",
            "description",
            "customer_id",
            "customer_name",
            "last_sync_status",
            "last_sync_at",
            "created_at",
        )
