"""Argument schemas of the order tools: what the agent, the API and the τ² replay may pass."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.orders import Address


class ToolArgs(BaseModel):
    """Base of every tool's arguments: unknown arguments are an error, as in the reference."""

    model_config = ConfigDict(extra="forbid")


class NoArgs(ToolArgs):
    """A tool without arguments."""


class EmailArgs(ToolArgs):
    """Find a customer by email."""

    email: str = Field(description="The customer's email, such as 'something@example.com'.")


class NameZipArgs(ToolArgs):
    """Find a customer by name and zip code."""

    first_name: str = Field(description="The first name of the customer, such as 'John'.")
    last_name: str = Field(description="The last name of the customer, such as 'Doe'.")
    zip: str = Field(description="The zip code of the customer's default address.")


class UserIdArgs(ToolArgs):
    """Name a customer account."""

    user_id: str = Field(description="The user id, such as 'sara_doe_496'.")


class OrderIdArgs(ToolArgs):
    """Name an order."""

    order_id: str = Field(
        description="The order id, such as '#W0000000'; include the '#' before the number."
    )


class ProductIdArgs(ToolArgs):
    """Name a product type."""

    product_id: str = Field(description="The product id, such as '6086499569' (not an item id).")


class ItemIdArgs(ToolArgs):
    """Name a product variant."""

    item_id: str = Field(description="The item id, such as '1008292230'.")


class ExpressionArgs(ToolArgs):
    """An arithmetic expression."""

    expression: str = Field(
        description="Numbers, operators (+, -, *, /) and parentheses, such as '2 + 2'."
    )


class SummaryArgs(ToolArgs):
    """Why the shopper goes to a person."""

    summary: str = Field(description="A summary of the shopper's issue for the human agent.")


class AddressArgs(ToolArgs):
    """A full postal address."""

    address1: str = Field(description="The first line, such as '123 Main St'.")
    address2: str = Field(description="The second line, such as 'Apt 1', or ''.")
    city: str = Field(description="The city, such as 'San Francisco'.")
    state: str = Field(description="The state, such as 'CA'.")
    country: str = Field(description="The country, such as 'USA'.")
    zip: str = Field(description="The zip code, such as '12345'.")

    def address(self) -> Address:
        """The address as a domain record."""
        return Address(
            address1=self.address1,
            address2=self.address2,
            city=self.city,
            country=self.country,
            state=self.state,
            zip=self.zip,
        )


class CancelArgs(OrderIdArgs):
    """Cancel a pending order."""

    reason: str = Field(description="Either 'no longer needed' or 'ordered by mistake'.")


class ExchangeArgs(OrderIdArgs):
    """Exchange delivered items for other variants of the same products."""

    item_ids: list[str] = Field(description="Item ids to exchange, such as ['1008292230'].")
    new_item_ids: list[str] = Field(
        description="The new item ids, same product and position as item_ids."
    )
    payment_method_id: str = Field(
        description="Pays or receives the price difference, such as 'gift_card_0000000'."
    )


class ModifyItemsArgs(ExchangeArgs):
    """Swap items of a pending order for other variants of the same products."""


class OrderAddressArgs(OrderIdArgs, AddressArgs):
    """Ship a pending order to another address."""


class OrderPaymentArgs(OrderIdArgs):
    """Pay a pending order with another method."""

    payment_method_id: str = Field(
        description="A payment method of the customer, such as 'credit_card_0000000'."
    )


class UserAddressArgs(UserIdArgs, AddressArgs):
    """Change a customer's default address."""


class ReturnArgs(OrderIdArgs):
    """Return delivered items."""

    item_ids: list[str] = Field(description="Item ids to return, such as ['1008292230'].")
    payment_method_id: str = Field(
        description="Receives the refund: the original payment method or a gift card."
    )


class DisputeArgs(OrderIdArgs):
    """Open a payment dispute or chargeback case for an order."""

    reason: str = Field(description="What the shopper disputes, in their words.")
    kind: str = Field(
        default="dispute",
        description="'chargeback' if the shopper has asked or will ask their bank, else 'dispute'.",
    )
    amount: str | None = Field(
        default=None, description="The disputed amount, such as '49.99'; default: all paid."
    )


class ConfirmArgs(ToolArgs):
    """The shopper's explicit yes to a proposed action."""

    action_id: str = Field(description="The action id returned when the action was proposed.")
